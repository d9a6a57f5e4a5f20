"""The deploy story, for real, against the offline stand-in (one rehearsal per test session).

Real parts: the Docker engine, the kit's Dockerfile and stand-in base, Debian's docker-registry, `sam deploy`,
boto3 over HTTP, the function image run by its emulator. moto server stands in for AWS (CloudFormation, S3,
IAM, STS, ECR's API, Lambda's API), with the extensions documented in
`lambdakit.aws.rehearsal.motoext`: it is the
only substitute here, and it is where a real account would be.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from lambdakit.aws.config import ARN_OUTPUT, NAME_OUTPUT, AwsConfig
from lambdakit.core.config import ProjectConfig
from tests.assets_fixture import write_assets_tarball
from tests.integration.answers import dev_answer

pytestmark = pytest.mark.docker

PROJECT = "lambdakit-test-deploy"
SETTINGS = ProjectConfig(project=PROJECT)
REVISION = "rehearsal-test-2"
BASE = "lambdakit/lambda-python:3.13"  # the stand-in base (`nox -s base-image`): nothing can be pulled here


@dataclass
class Story:
    """What the module's tests share: the running stand-in and the config the deploys use."""

    stand_in: Any
    config: Any
    built_template: Path
    work: Path
    context: Path
    architecture: str  # template.yaml's: which asset image assets.lock pins
    first: Any = None
    second: Any = None


def labels(payload: Any) -> list[str]:
    """The labels of an answer, direct or proxy, single or batch."""
    if isinstance(payload, dict) and "body" in payload:
        payload = json.loads(payload["body"])
    if isinstance(payload, dict) and "results" in payload:
        return [result["label"] for result in payload["results"]]
    return [payload["label"]]


def local_labels(event: Path, model_dir: Path, python: str) -> list[str]:
    """`python -m inference EVENT` in the function environment: what the deployed function must agree with."""
    return labels(dev_answer(python, event, env=os.environ | {"INFERENCE_MODEL_DIR": str(model_dir)}))


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> Iterator[Story]:
    """Images built once (stand-in base, test asset image, function image), then the stand-in started."""
    from lambdakit.aws.rehearsal import Rehearsal
    from lambdakit.config import template
    from lambdakit.images import assets, baseimage, build, staging

    work = tmp_path_factory.mktemp("rehearsal")
    base = baseimage.build(SETTINGS.python)
    cache_root = model_dir.parents[2]  # <root>/huggingface/exports/<model>
    tarball = write_assets_tarball(cache_root, model_dir, work / "assets.tar")
    asset = assets.build(tarball, repository=f"{PROJECT}-assets")
    project = SETTINGS
    tpl = template.load(project=project)
    inputs = build.resolve_inputs(project, tpl, base=base, asset=asset.ref)
    context = work / f"{PROJECT}-context"  # names the shared pip work dir (build/function-work/<name>)
    staging.stage(context=context, wheels=build.wheel_platform(inputs), project=project)
    local = build.build_image(f"{PROJECT}-function:v1", inputs, context=context)
    built = work / "built-template.yaml"  # what `sam build` writes: the template with the local ImageUri
    document = template.read(template.TEMPLATE)
    template.function_resource(document)["Properties"]["ImageUri"] = local
    YAML().dump(document, built)
    config = AwsConfig(stack_name=PROJECT, region="us-east-1", project=SETTINGS, built_template=built)
    with Rehearsal.start(region="us-east-1", workdir=work / "stand-in") as stand_in:
        yield Story(
            stand_in=stand_in,
            config=config,
            built_template=built,
            work=work,
            context=context,
            architecture=tpl.target.architecture,
        )


def test_first_deploy_creates_the_stack_and_serves_the_same_labels_as_local(
    story: Story, model_dir: Path, sample_events: dict[str, Path], function_python: str
) -> None:
    import boto3

    from lambdakit.aws import deploy, invoke

    story.first = deploy.deploy(story.config, story.architecture)

    stack = boto3.client("cloudformation").describe_stacks(StackName=PROJECT)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs[NAME_OUTPUT] == story.first.function.name
    assert outputs[ARN_OUTPUT].endswith(f":function:{story.first.function.name}")
    code = boto3.client("lambda").get_function(FunctionName=story.first.function.name)["Code"]
    assert code["ImageUri"] == story.first.image_uri  # pinned to the pushed digest
    assert not story.first.assets.skipped and story.first.assets.pushed_bytes > 0
    for name, event in sample_events.items():
        result = invoke.invoke(event.read_bytes(), story.first.function.name)
        assert labels(result.payload) == local_labels(event, model_dir, function_python), name
    assert "REPORT RequestId" in result.log_tail  # LogType=Tail, decoded


def test_unchanged_redeploy_is_no_changes_and_pushes_nothing(story: Story) -> None:
    from lambdakit.aws import deploy

    uploads_before = story.stand_in.upload_count(f"{PROJECT}-assets")

    again = deploy.deploy(story.config, story.architecture)

    assert not again.changed
    assert again.assets.skipped and again.code.skipped
    assert again.image_uri == story.first.image_uri
    assert story.stand_in.upload_count(f"{PROJECT}-assets") == uploads_before


def test_code_change_redeploys_a_new_image_without_pushing_the_weights_again(story: Story) -> None:
    import boto3

    from lambdakit.aws import deploy, invoke
    from lambdakit.aws import rehearse as script
    from lambdakit.config import template

    asset_blobs = story.stand_in.layer_blobs(f"{PROJECT}-assets")
    asset_uploads = story.stand_in.upload_count(f"{PROJECT}-assets")
    asset_image, _ = deploy.local_asset_image(SETTINGS, story.architecture)
    local = script.build_changed_image(
        SETTINGS,
        template.load(project=SETTINGS),
        f"{PROJECT}-function:v2",
        REVISION,
        asset_image,
        story.work / "change",
        BASE,
        story.context,
    )

    story.second = deploy.deploy(story.config, story.architecture, function_local=local)

    assert story.second.changed and story.second.image_uri != story.first.image_uri
    code = boto3.client("lambda").get_function(FunctionName=story.second.function.name)["Code"]
    assert code["ImageUri"] == story.second.image_uri
    answer = invoke.invoke({"text": "My parcel never arrived"}, story.second.function.name).payload
    assert answer[script.REVISION_KEY] == REVISION
    assert story.second.assets.skipped  # the weights' tag was there: not even a layer check
    assert story.stand_in.upload_count(f"{PROJECT}-assets") == asset_uploads
    assert story.stand_in.layer_blobs(f"{PROJECT}-assets") == asset_blobs
    # Only the small code layers went up; the base, weights and dependency layers were already there.
    assert story.second.code.existing
    assert story.second.code.pushed_bytes < story.first.code.pushed_bytes / 20


def test_invalid_template_fails_and_the_previous_version_keeps_serving(story: Story) -> None:
    from lambdakit.aws import deploy, invoke
    from lambdakit.core.errors import DeployFailed

    broken = story.work / "broken-template.yaml"
    document = YAML().load(story.built_template.read_text())
    document["Resources"]["InferenceFunction"]["Properties"]["Events"] = {"Bad": {"Type": "NoSuchEventType"}}
    YAML().dump(document, broken)

    with pytest.raises(DeployFailed, match="previous version keeps serving"):
        deploy.deploy(
            dataclasses.replace(story.config, built_template=broken),
            story.architecture,
            function_local=f"{PROJECT}-function:v1",
        )

    answer = invoke.invoke({"text": "Refund my last invoice"}, story.second.function.name).payload
    assert answer[script_revision_key()] == REVISION


def test_failing_build_deploys_nothing_and_the_previous_version_keeps_serving(story: Story) -> None:
    import boto3

    from lambdakit.aws import invoke
    from lambdakit.core.errors import KitError
    from lambdakit.images import build

    inputs = build.BuildInputs(BASE, f"{PROJECT}-assets:latest", SETTINGS.runtime, "x86_64", SETTINGS.handler)
    empty_context = story.work / "empty-context"  # no deps/ or code/: the Dockerfile's COPY fails
    empty_context.mkdir()

    with pytest.raises(KitError):
        build.build_image(f"{PROJECT}-function:broken", inputs, context=empty_context)

    code = boto3.client("lambda").get_function(FunctionName=story.second.function.name)["Code"]
    assert code["ImageUri"] == story.second.image_uri
    answer = invoke.invoke({"text": "Where is my order?"}, story.second.function.name).payload
    assert answer[script_revision_key()] == REVISION


def script_revision_key() -> str:
    from lambdakit.aws import rehearse as script

    return script.REVISION_KEY


def test_snapstart_deploys_a_version_behind_an_alias_that_invoke_calls_and_a_redeploy_moves(
    story: Story, model_dir: Path, sample_events: dict[str, Path], function_python: str
) -> None:
    """SnapStart from the template's own property: deploy adds `AutoPublishAlias: live` and the alias output;
    every answer comes through the alias, and a code change publishes a version the alias moves to. The
    stand-in needs motoext's 4th extension (versions and aliases from CloudFormation) for this; it runs the
    version cold, as it does not emulate the snapshot itself."""
    import boto3

    from lambdakit.aws import deploy, invoke
    from lambdakit.aws import rehearse as script
    from lambdakit.config import template
    from lambdakit.core import settings

    built = story.work / "snapstart-template.yaml"
    document = YAML().load(story.built_template.read_text())
    document["Resources"]["InferenceFunction"]["Properties"]["SnapStart"] = {"ApplyOn": "PublishedVersions"}
    YAML().dump(document, built)
    config = dataclasses.replace(story.config, stack_name=f"{PROJECT}-snapstart", built_template=built)
    lambda_api = boto3.client("lambda")

    first = deploy.deploy(config, story.architecture, function_local=f"{PROJECT}-function:v1")

    assert first.function.alias_arn == f"{first.function.arn}:live" == first.function.invoke_name
    shipped = YAML().load(settings.build_dir() / "deploy" / "template.yaml")["Resources"]["InferenceFunction"]
    assert shipped["Properties"]["AutoPublishAlias"] == "live"
    assert shipped["Properties"]["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    alias = lambda_api.get_alias(FunctionName=first.function.name, Name="live")
    version = lambda_api.get_function(FunctionName=first.function.invoke_name)
    assert version["Configuration"]["Version"] == alias["FunctionVersion"] == "1"
    assert version["Code"]["ImageUri"] == first.image_uri
    for name, event in sample_events.items():
        result = invoke.invoke(event.read_bytes(), first.function.invoke_name)
        assert labels(result.payload) == local_labels(event, model_dir, function_python), name

    asset_image, _ = deploy.local_asset_image(SETTINGS, story.architecture)
    tag = f"{PROJECT}-function:ss-v2"
    local = script.build_changed_image(
        SETTINGS,
        template.load(project=SETTINGS),
        tag,
        REVISION,
        asset_image,
        story.work / "ss",
        BASE,
        story.context,
    )
    second = deploy.deploy(config, story.architecture, function_local=local)

    assert second.function.alias_arn == first.function.alias_arn
    assert lambda_api.get_alias(FunctionName=first.function.name, Name="live")["FunctionVersion"] == "2"
    answer = invoke.invoke({"text": "My parcel never arrived"}, second.function.invoke_name).payload
    assert answer[script.REVISION_KEY] == REVISION
    old = lambda_api.get_function(FunctionName=first.function.name, Qualifier="1")["Code"]["ImageUri"]
    assert old == first.image_uri  # the previous version keeps its own image
