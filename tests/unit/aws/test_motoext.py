"""The rehearsal's moto extension for versions and aliases (motoext's 4th), which SnapStart's
`AutoPublishAlias` needs: stock moto cannot `!GetAtt` a version, has no CloudFormation alias, publishes a
stack update's version before updating the function, and lets versions share $LATEST's code. The extension
fixes exactly these; this test runs moto in-process, in a child interpreter so its patches stay there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

SCRIPT = """
import json
import runpy
import boto3
from moto import mock_aws

# as `python -m` runs it: a module name without dots (moto files models by their module's name)
motoext = runpy.run_module("lambdakit.aws.rehearsal.motoext", run_name="motoext_as_a_script")
motoext["install_sam_transform"]()
motoext["install_versions_and_aliases"]()

def template(image):
    return json.dumps({
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {"InferenceFunction": {"Type": "AWS::Serverless::Function", "Properties": {
            "PackageType": "Image", "ImageUri": image, "AutoPublishAlias": "live",
            "SnapStart": {"ApplyOn": "PublishedVersions"}}}},
        "Outputs": {"Alias": {"Value": {"Ref": "InferenceFunction.Alias"}},
                    "Name": {"Value": {"Ref": "InferenceFunction"}}},
    })

seen = []
with mock_aws():
    cfn, api = boto3.client("cloudformation"), boto3.client("lambda")
    for number, image in enumerate(["registry/fn@sha256:1", "registry/fn@sha256:2"]):
        change = cfn.create_change_set(
            StackName="s", TemplateBody=template(image), ChangeSetName=f"c{number}",
            ChangeSetType="UPDATE" if number else "CREATE", Capabilities=["CAPABILITY_IAM"])
        cfn.execute_change_set(ChangeSetName=change["Id"])
        stack = cfn.describe_stacks(StackName="s")["Stacks"][0]
        out = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        through_alias = api.get_function(FunctionName=out["Alias"])
        seen.append({"alias": out["Alias"], "name": out["Name"],
                     "version": through_alias["Configuration"]["Version"],
                     "image": through_alias["Code"]["ImageUri"],
                     "first": api.get_function(FunctionName=out["Name"], Qualifier="1")["Code"]["ImageUri"]})
print(json.dumps(seen))
"""


def test_each_deploy_publishes_a_version_and_moves_the_alias_to_it() -> None:
    env = os.environ | {
        "PYTHONPATH": str(REPO / "src"),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    env.pop("AWS_ENDPOINT_URL", None)
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, check=False, timeout=120
    )
    assert run.returncode == 0, run.stderr[-2000:]
    first, second = json.loads(run.stdout.splitlines()[-1])
    assert first["alias"] == f"arn:aws:lambda:us-east-1:123456789012:function:{first['name']}:live"
    assert (first["version"], first["image"]) == ("1", "registry/fn@sha256:1")
    assert (second["version"], second["image"]) == ("2", "registry/fn@sha256:2")  # the new code, not the old
    assert second["first"] == "registry/fn@sha256:1"  # a published version keeps its own image
