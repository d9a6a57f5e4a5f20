"""What the stack says (outputs, state): a CloudFormation out of reach is one line, not botocore's. And the
template deploy ships: the built template pinned to the pushed image, with SnapStart and its alias when the
function's target has it, as CloudFormation's SAM transform then expands it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from ruamel.yaml import YAML

from lambdakit.aws import deploy, stack
from lambdakit.aws.rehearsal import motoext
from lambdakit.config import template
from lambdakit.core.config import ProjectConfig
from lambdakit.core.errors import AwsUnreachable, ConfigError
from tests.unit.config.test_template import image_function

REPO = Path(__file__).resolve().parents[3]

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/triage-function@sha256:" + "a" * 64
OUTPUTS = "Outputs:\n  InferenceFunctionName: {Value: {Ref: InferenceFunction}}\n"


def shipped(tmp_path: Path, *properties: str, snapstart: bool = False) -> Any:
    built = tmp_path / "built.yaml"
    function = image_function(*properties).replace(
        "  InferenceFunction:\n", "  InferenceFunction:\n    Type: AWS::Serverless::Function\n"
    )
    built.write_text("Transform: AWS::Serverless-2016-10-31\n" + function + OUTPUTS)
    out = stack.write_deploy_template(
        built, IMAGE, "triage-assets:a1", tmp_path / "deploy.yaml", ProjectConfig(snapstart=snapstart)
    )
    return YAML(typ="safe").load(out)


def expanded(document: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """What CloudFormation's SAM transform makes of it (aws-sam-translator, as the rehearsal uses)."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return motoext.expand_sam(document)


def test_without_snapstart_the_function_ships_as_it_was_built(tmp_path: Path) -> None:
    document = shipped(tmp_path)
    properties = document["Resources"]["InferenceFunction"]["Properties"]
    assert properties["ImageUri"] == IMAGE
    assert "SnapStart" not in properties and "AutoPublishAlias" not in properties
    assert template.ALIAS_OUTPUT not in document["Outputs"]


@pytest.mark.parametrize(
    ("properties", "snapstart"),
    [(("SnapStart: {ApplyOn: PublishedVersions}",), False), ((), True)],
    ids=["template-property", "pyproject-key"],
)
def test_snapstart_ships_with_an_alias_and_its_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, properties: tuple[str, ...], snapstart: bool
) -> None:
    document = shipped(tmp_path, *properties, snapstart=snapstart)

    function = document["Resources"]["InferenceFunction"]["Properties"]
    assert function["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    assert function["AutoPublishAlias"] == template.ALIAS
    resources = expanded(document, monkeypatch)
    alias = resources["Resources"][f"InferenceFunctionAlias{template.ALIAS}"]
    assert alias["Type"] == "AWS::Lambda::Alias" and alias["Properties"]["Name"] == "live"
    lambda_function = resources["Resources"]["InferenceFunction"]["Properties"]
    assert lambda_function["SnapStart"]["ApplyOn"] == "PublishedVersions"
    assert resources["Outputs"][template.ALIAS_OUTPUT]["Value"] == {"Ref": "InferenceFunctionAliaslive"}


def test_the_templates_own_alias_name_is_kept(tmp_path: Path) -> None:
    document = shipped(tmp_path, "SnapStart: {ApplyOn: PublishedVersions}", "AutoPublishAlias: prod")
    assert document["Resources"]["InferenceFunction"]["Properties"]["AutoPublishAlias"] == "prod"
    assert template.ALIAS_OUTPUT in document["Outputs"]


@pytest.mark.parametrize(
    "refused",
    [
        "ProvisionedConcurrencyConfig: {ProvisionedConcurrentExecutions: 2}",
        "FileSystemConfigs: [{Arn: a, LocalMountPath: /mnt/efs}]",
        "EphemeralStorage: {Size: 1024}",
    ],
)
def test_deploy_refuses_what_lambda_refuses_with_snapstart_before_anything_ships(
    tmp_path: Path, refused: str
) -> None:
    with pytest.raises(ConfigError, match="SnapStart cannot be used with") as error:
        shipped(tmp_path, refused, snapstart=True)
    assert "\n" not in str(error.value)
    assert not (tmp_path / "deploy.yaml").exists()


def test_invoke_goes_through_the_alias_when_there_is_one() -> None:
    assert deploy.FunctionInfo("fn", "arn:fn").invoke_name == "fn"
    assert deploy.FunctionInfo("fn", "arn:fn", "arn:fn:live").invoke_name == "arn:fn:live"


@pytest.fixture
def closed_port() -> str:
    """An endpoint on this machine where nothing listens: connections are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_an_unreachable_cloudformation_is_one_line_with_the_endpoint_and_the_fix(closed_port: str) -> None:
    cfn = boto3.client(
        "cloudformation",
        endpoint_url=closed_port,
        region_name="eu-west-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=2),
    )
    with pytest.raises(AwsUnreachable) as caught:
        stack.deployed_function(cfn, "triage")
    message = str(caught.value)
    assert message.startswith(f"could not ask CloudFormation for stack triage's outputs at {closed_port}")
    assert "EndpointConnectionError" in message and "check the network and the region" in message
    assert message.endswith("or pass --function NAME to invoke") and len(message.splitlines()) == 1
    with pytest.raises(AwsUnreachable, match="could not read the state of stack triage"):
        stack.state(cfn, "triage")


def test_invoke_without_function_when_cloudformation_is_unreachable(closed_port: str, tmp_path: Path) -> None:
    env = os.environ | {
        "AWS_ENDPOINT_URL": closed_port,
        "AWS_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "PYTHONPATH": str(REPO / "src"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "lambdakit", "invoke", "--text", "hello"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: could not ask CloudFormation") and result.stderr.count("\n") == 1
    assert "pass --function NAME" in result.stderr
