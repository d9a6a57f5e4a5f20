"""Push the images to ECR and deploy the stack with `sam deploy`, no prompts (`commands/deploy.py` is
`python -m lambdakit deploy`, `nox -s deploy`).

Steps, each failing with one line that names the fix:

1. Pre-flight: the Docker engine answers, `sam` is installed, credentials and a region resolve (STS
   `GetCallerIdentity`), the asset image (local, else pulled by the digest `assets.lock` pins) and the
   `sam build` output exist.
2. ECR: the repositories `<project>-assets` and `<project>-function` exist (scan on push, immutable tags);
   Docker logs in with `GetAuthorizationToken` (`ecr`).
3. Push the asset image under its content tag, skipped when the registry already has that tag: the weights
   go up once per content, ever. Push the function image under a tag made of its image id, likewise.
   A function whose snapshot found nothing to ship (report.json: `"assets": "none"`) has no asset image:
   no `<project>-assets` repository is created and nothing is pushed to one.
4. `sam deploy` of the built template with the function's `ImageUri` pinned to the pushed digest (so an
   unchanged image is "No changes to deploy"), settings from `samconfig.toml`, pass-through arguments last
   (`stack`).
5. Report the function name, ARN, image digest and what each push sent; on failure, say what failed and
   whether CloudFormation rolled the stack back (the previous version keeps serving either way).
6. `python -m lambdakit deploy` (not the rehearsal) pins the asset image it pushed in `assets.lock`.

Against real AWS this needs only credentials; `lambdakit.aws.rehearsal` runs the same code against a local
stand-in (`AWS_ENDPOINT_URL`), which is how it is tested.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from rich.console import Console
from rich.table import Table

from lambdakit.aws import ecr, errors, stack
from lambdakit.aws.config import AwsConfig
from lambdakit.config import template
from lambdakit.core import proc, settings
from lambdakit.core.config import ProjectConfig
from lambdakit.core.errors import ConfigError, DeployFailed, ImageMissing
from lambdakit.images import assets, engine, pinned, platform, push

log = logging.getLogger(__name__)
SAM_FIX = "install the dev tools (pipenv install --dev, or pip install aws-sam-cli)"


@dataclass(frozen=True)
class FunctionInfo:
    name: str
    arn: str
    alias_arn: str = ""  # with SnapStart: the alias on the version this deploy published

    @property
    def invoke_name(self) -> str:
        """What to invoke: the alias (SnapStart never snapshots $LATEST), else the function."""
        return self.alias_arn or self.name


@dataclass(frozen=True)
class DeployReport:
    stack: str
    function: FunctionInfo
    image_uri: str
    assets: push.PushReport | None  # None: the function has no asset image
    code: push.PushReport
    changed: bool
    seconds: float


def preflight(config: AwsConfig, architecture: str) -> tuple[Any, str]:
    """(boto3 session, account id) once everything a deploy needs is there; else a one-line error."""
    engine.client()
    proc.find_tool("sam", SAM_FIX)
    session = boto3.Session(region_name=config.resolve_region())
    account = caller_account(session)
    local_asset_image(config.project, architecture)
    function_image(config.built_template)
    return session, account


def caller_account(session: Any) -> str:
    try:
        return str(session.client("sts").get_caller_identity()["Account"])
    except NoCredentialsError as exc:
        raise ConfigError(
            "no AWS credentials: run `aws configure` or `aws sso login`, or set AWS_PROFILE "
            "(or rehearse offline: nox -s rehearse)"
        ) from exc
    except (ClientError, BotoCoreError) as exc:
        if errors.is_connection_error(exc):  # no answer at all: the network or the region, not credentials
            raise errors.unreachable(
                exc,
                session.client("sts"),
                "check the credentials (sts get-caller-identity)",
                "rehearse offline: nox -s rehearse",
            ) from exc
        raise ConfigError(
            f"AWS credentials do not work (sts get-caller-identity: {exc}); refresh them"
        ) from exc


def local_asset_image(project: ProjectConfig, architecture: str) -> tuple[str, str] | None:
    """(local reference, content tag) of the asset image: the local one `nox -s assets` made, else the one
    assets.lock pins for ARCHITECTURE (template.yaml's), pulled by digest (`pinned.resolve`); None when the
    snapshot found nothing to ship."""
    if assets.none_recorded():
        return None
    repository = project.assets_repository
    reference = pinned.resolve(architecture, repository)
    if reference is None:
        raise ImageMissing(
            f"no asset image {repository} in the local engine nor in assets.lock; build it with "
            "`nox -s snapshot` and `nox -s assets`"
        )
    sha256 = engine.require_image(reference, "build it with `nox -s assets`").labels.get(assets.SHA256_LABEL)
    if not sha256:
        raise ImageMissing(f"{reference} has no {assets.SHA256_LABEL} label; rebuild it: nox -s assets")
    tag = assets.content_tag(sha256)
    return f"{repository}:{tag}", tag


def function_image(built_template: Path) -> str:
    """The local image `sam build` made for the function (its `ImageUri` in the built template)."""
    if not built_template.is_file():
        raise ImageMissing(f"{built_template} is missing; build the function image first with `nox -s build`")
    resource = template.function_resource(template.read(built_template), template.FUNCTION_ID, built_template)
    image = (resource.get("Properties") or {}).get("ImageUri")
    if not image:
        raise ImageMissing(
            f"{built_template} has no ImageUri for {template.FUNCTION_ID}; rerun `nox -s build`"
        )
    engine.require_image(str(image), "build it with `nox -s build`")
    return str(image)


def image_tag(local_image: str) -> str:
    """A content tag for the function image: its image id (config digest), so equal images share a tag."""
    image_id = str(engine.require_image(local_image, "build it with `nox -s build`").id)
    return "fn-" + image_id.split(":", 1)[-1][:12]


def deployed_function(config: AwsConfig, region: str | None = None, session: Any = None) -> FunctionInfo:
    """The function's name and ARN from the stack outputs."""
    session = session or boto3.Session(region_name=config.resolve_region(region))
    return FunctionInfo(*stack.deployed_function(session.client("cloudformation"), config.stack_name))


def deploy(
    config: AwsConfig,
    architecture: str,
    extra_args: Iterable[str] = (),
    function_local: str | None = None,
) -> DeployReport:
    """Pre-flight, repositories, pushes, `sam deploy`; a `DeployReport`, or a `KitError` saying what failed.
    ARCHITECTURE is template.yaml's (which asset image assets.lock pins).

    `function_local` deploys another local image than the one `sam build` made (the rehearsal's code change).
    """
    started = time.monotonic()
    log.info("pre-flight: engine, sam, credentials, region, images")
    session, account = preflight(config, architecture)
    project = config.project
    if notice := platform.deprecation_notice(project.base_image):  # the runtime the image was built on
        log.warning(notice)
    region = str(session.region_name)
    log.info("account %s, region %s, stack %s", account, region, config.stack_name)
    client = session.client("ecr")
    asset = local_asset_image(project, architecture)
    for repository in (
        (project.assets_repository, project.function_repository) if asset else (project.function_repository,)
    ):
        ecr.ensure_repository(client, repository)
    registry = ecr.login(client)
    asset_push = (
        push.push(
            asset[0],
            f"{registry.host}/{project.assets_repository}",
            asset[1],
            registry.auth_config,
            skip_existing=True,
        )
        if asset
        else None
    )
    local = function_local or function_image(config.built_template)
    code_push = push.push(
        local, f"{registry.host}/{project.function_repository}", image_tag(local), registry.auth_config, True
    )
    image_uri = f"{registry.host}/{project.function_repository}@{code_push.digest}"
    template_file = stack.write_deploy_template(
        config.built_template,
        image_uri,
        asset_push.image if asset_push else "",
        settings.build_dir() / "deploy" / "template.yaml",
        project,
    )
    log.info("sam deploy %s (%s)", config.stack_name, image_uri)
    argv = stack.sam_deploy_argv(
        proc.find_tool("sam", SAM_FIX),
        config,
        template_file,
        region,
        f"{registry.host}/{project.function_repository}",
        extra_args,
    )
    status, output = stack.run_streamed(argv)
    cfn = session.client("cloudformation")
    if status != 0:
        raise DeployFailed(
            stack.explain_failure(output, *stack.state(cfn, config.stack_name), config.stack_name)
        )
    return DeployReport(
        stack=config.stack_name,
        function=deployed_function(config, session=session),
        image_uri=image_uri,
        assets=asset_push,
        code=code_push,
        changed=stack.NO_CHANGES not in output,
        seconds=time.monotonic() - started,
    )


def print_report(report: DeployReport) -> None:
    table = Table(
        title=f"stack {report.stack}: {'updated' if report.changed else 'no changes'}", show_header=False
    )
    table.add_row("function", report.function.name)
    table.add_row("ARN", report.function.arn)
    if report.function.alias_arn:
        table.add_row("alias (SnapStart)", report.function.alias_arn)
    table.add_row("image", report.image_uri)
    table.add_row("asset image", report.assets.summary() if report.assets else "none (nothing to ship)")
    table.add_row("function image", report.code.summary())
    table.add_row("took", f"{report.seconds:.1f} s")
    Console(file=sys.stdout, width=200).print(table)


def lock_pushed_assets(report: DeployReport, project: ProjectConfig, architecture: str) -> None:
    """Pin the asset image this deploy pushed (or found) in ECR in assets.lock for ARCHITECTURE (unchanged
    for the same content); nothing to pin when nothing shipped. Only the command does it: the rehearsal's
    registry must never reach the user's lock."""
    if report.assets is None:
        return
    remote, _, tag = report.assets.image.rpartition(":")
    local = f"{project.assets_repository}:{tag}"
    snapshot_report = pinned.snapshot_report()
    pinned.pin(local, remote, report.assets.digest, architecture, snapshot_report)
