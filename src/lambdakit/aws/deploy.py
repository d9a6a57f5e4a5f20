"""`nox -s deploy`: push the images to ECR and deploy the stack with `sam deploy`, no prompts.

Steps, each failing with one line that names the fix:

1. Pre-flight: the Docker engine answers, `sam` is installed, credentials and a region resolve (STS
   `GetCallerIdentity`), the asset image and the `sam build` output exist.
2. ECR: the repositories `<project>-assets` and `<project>-function` exist (scan on push, immutable tags);
   Docker logs in with `GetAuthorizationToken`.
3. Push the asset image under its content tag, skipped when the registry already has that tag: the weights
   go up once per content, ever. Push the function image under a tag made of its image id, likewise.
4. `sam deploy` of the built template with the function's `ImageUri` pinned to the pushed digest (so an
   unchanged image is "No changes to deploy"), settings from `samconfig.toml`, pass-through arguments last.
5. Report the function name, ARN, image digest and what each push sent; on failure, say what failed and
   whether CloudFormation rolled the stack back (the previous version keeps serving either way).

Against real AWS this needs only credentials; `lambdakit.aws.rehearsal` runs the same code against a local
stand-in (`AWS_ENDPOINT_URL`), which is how it is tested.
"""

from __future__ import annotations

import argparse
import base64
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambdakit.core import settings
from lambdakit.core.errors import ConfigError, DeployFailed, ImageMissing, KitError

SAMCONFIG = settings.REPO_ROOT / "samconfig.toml"
BUILT_TEMPLATE = settings.REPO_ROOT / ".aws-sam" / "build" / "template.yaml"
LOGICAL_ID = "InferenceFunction"
NAME_OUTPUT, ARN_OUTPUT = f"{LOGICAL_ID}Name", f"{LOGICAL_ID}Arn"
NO_CHANGES = "No changes to deploy"
SAM_FIX = "install the dev tools (pipenv install --dev, or pip install aws-sam-cli)"


@dataclass(frozen=True)
class DeployConfig:
    """`samconfig.toml` [default.deploy.parameters], and the project the repositories are named after."""

    stack_name: str
    region: str
    project: str
    path: Path = SAMCONFIG

    @classmethod
    def load(cls, path: Path = SAMCONFIG) -> DeployConfig:
        project = settings.project_name()
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(
                f"{path} is missing; it holds the stack name and region for `sam deploy`"
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML ({exc}); fix it and retry") from exc
        deploy = document.get("default", {}).get("deploy", {}).get("parameters", {})
        return cls(
            stack_name=str(deploy.get("stack_name", project)),
            region=str(deploy.get("region", "")),
            project=project,
            path=path,
        )

    @property
    def asset_repository(self) -> str:
        return f"{self.project}-assets"

    @property
    def function_repository(self) -> str:
        return f"{self.project}-function"


@dataclass(frozen=True)
class Registry:
    """The account's ECR registry as Docker sees it: host (no scheme) and the credentials for pushes."""

    host: str
    username: str
    password: str

    @property
    def auth_config(self) -> dict[str, str]:
        return {"username": self.username, "password": self.password}


@dataclass
class PushReport:
    """What one push did: the remote reference, its digest, and which layers went up or were already there."""

    image: str
    digest: str = ""
    skipped: bool = False  # the tag was already in the registry: nothing sent
    pushed: dict[str, int] = field(default_factory=dict)  # layer id -> bytes sent
    existing: set[str] = field(default_factory=set)

    @property
    def pushed_bytes(self) -> int:
        return sum(self.pushed.values())

    def summary(self) -> str:
        if self.skipped:
            return f"{self.image}: already in the registry, push skipped"
        return (
            f"{self.image}: pushed {len(self.pushed)} layer(s), {human_bytes(self.pushed_bytes)}; "
            f"{len(self.existing)} layer(s) already there"
        )


@dataclass(frozen=True)
class FunctionInfo:
    name: str
    arn: str


@dataclass(frozen=True)
class DeployReport:
    stack: str
    function: FunctionInfo
    image_uri: str
    assets: PushReport
    code: PushReport
    changed: bool
    seconds: float


# --- pre-flight ---------------------------------------------------------------------------------------------


def preflight(config: DeployConfig, built_template: Path = BUILT_TEMPLATE) -> tuple[Any, str]:
    """(boto3 session, account id) once everything a deploy needs is there; else a one-line error."""
    from lambdakit.core import proc
    from lambdakit.images import engine

    engine.client()
    proc.find_tool("sam", SAM_FIX)
    session = aws_session(config)
    account = caller_account(session)
    local_asset_image(config.project)
    function_image(built_template)
    return session, account


def aws_session(config: DeployConfig) -> Any:
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        session = boto3.Session()
    except BotoCoreError as exc:  # e.g. AWS_PROFILE names a profile that does not exist
        raise ConfigError(f"AWS configuration error: {exc}; check AWS_PROFILE and ~/.aws/config") from exc
    region = session.region_name or config.region
    if not region:
        raise ConfigError(f"no AWS region: set AWS_REGION, or `region` in {config.path.name}")
    return boto3.Session(region_name=region)


def caller_account(session: Any) -> str:
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    try:
        return str(session.client("sts").get_caller_identity()["Account"])
    except NoCredentialsError as exc:
        raise ConfigError(
            "no AWS credentials: run `aws configure` or `aws sso login`, or set AWS_PROFILE "
            "(or rehearse offline: nox -s rehearse)"
        ) from exc
    except (ClientError, BotoCoreError) as exc:
        raise ConfigError(
            f"AWS credentials do not work (sts get-caller-identity: {exc}); refresh them"
        ) from exc


def local_asset_image(project: str) -> tuple[str, str]:
    """(local reference, content tag) of the asset image `nox -s assets` made (`:latest` names the newest)."""
    from lambdakit.images import assets, engine

    repository = assets.repository_name(project)
    image = engine.require_image(f"{repository}:{assets.LATEST}", "build it with `nox -s assets`")
    sha256 = image.labels.get(assets.SHA256_LABEL)
    if not sha256:
        raise ImageMissing(
            f"{repository}:{assets.LATEST} has no {assets.SHA256_LABEL} label; rebuild it: nox -s assets"
        )
    tag = assets.content_tag(sha256)
    return f"{repository}:{tag}", tag


def function_image(built_template: Path = BUILT_TEMPLATE) -> str:
    """The local image `sam build` made for the function (its `ImageUri` in the built template)."""
    from lambdakit.config import template

    if not built_template.is_file():
        raise ImageMissing(f"{built_template} is missing; build the function image first with `nox -s build`")
    resource = template.function_resource(template.load(built_template), LOGICAL_ID, built_template)
    image = (resource.get("Properties") or {}).get("ImageUri")
    if not image:
        raise ImageMissing(f"{built_template} has no ImageUri for {LOGICAL_ID}; rerun `nox -s build`")
    from lambdakit.images import engine

    engine.require_image(str(image), "build it with `nox -s build`")
    return str(image)


# --- ECR and pushes -----------------------------------------------------------------------------------------


def ensure_repository(ecr: Any, name: str) -> None:
    """Create the repository (scan on push, immutable tags), or bring an existing one to those settings."""
    from botocore.exceptions import ClientError

    try:
        ecr.create_repository(
            repositoryName=name,
            imageTagMutability="IMMUTABLE",
            imageScanningConfiguration={"scanOnPush": True},
        )
        print(f"created ECR repository {name} (scan on push, immutable tags)")
        return
    except ecr.exceptions.RepositoryAlreadyExistsException:
        pass
    except ClientError as exc:
        raise DeployFailed(f"cannot create ECR repository {name}: {_aws_error(exc)}") from exc
    try:
        current = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
        if current.get("imageTagMutability") != "IMMUTABLE":
            ecr.put_image_tag_mutability(repositoryName=name, imageTagMutability="IMMUTABLE")
        if not current.get("imageScanningConfiguration", {}).get("scanOnPush"):
            ecr.put_image_scanning_configuration(
                repositoryName=name, imageScanningConfiguration={"scanOnPush": True}
            )
    except ClientError as exc:
        raise DeployFailed(f"cannot configure ECR repository {name}: {_aws_error(exc)}") from exc


def registry_login(ecr: Any) -> Registry:
    """GetAuthorizationToken, then `docker login` to the registry it names (the token lasts 12 hours)."""
    from botocore.exceptions import ClientError

    from lambdakit.images import engine

    try:
        data = ecr.get_authorization_token()["authorizationData"][0]
    except ClientError as exc:
        raise DeployFailed(f"ECR GetAuthorizationToken failed: {_aws_error(exc)}") from exc
    registry = registry_from_token(data)
    try:
        engine.client().login(
            username=registry.username,
            password=registry.password,
            registry=data["proxyEndpoint"],
            reauth=True,
        )
    except Exception as exc:  # docker.errors.APIError: the registry refused or cannot be reached
        raise DeployFailed(f"docker login to {registry.host} failed: {_first_line(exc)}") from exc
    return registry


def registry_from_token(authorization_data: dict[str, Any]) -> Registry:
    username, _, password = base64.b64decode(authorization_data["authorizationToken"]).decode().partition(":")
    host = str(authorization_data["proxyEndpoint"]).split("://", 1)[-1].rstrip("/")
    return Registry(host=host, username=username, password=password)


def remote_digest(reference: str, registry: Registry) -> str | None:
    """The manifest digest the registry holds for REFERENCE, or None when it has no such tag."""
    import docker.errors

    from lambdakit.images import engine

    try:
        answer = engine.client().api.inspect_distribution(reference, auth_config=registry.auth_config)
    except docker.errors.NotFound:
        return None
    except docker.errors.APIError as exc:
        if "not found" in str(exc).lower() or "unknown" in str(exc).lower():
            return None
        raise DeployFailed(f"cannot query {reference} in the registry: {_first_line(exc)}") from exc
    return str(answer["Descriptor"]["digest"])


def push(local_image: str, registry: Registry, repository: str, tag: str) -> PushReport:
    """Push LOCAL_IMAGE as registry/repository:tag, unless that tag is already there (tags are immutable)."""
    from lambdakit.images import engine

    remote = f"{registry.host}/{repository}"
    report = PushReport(image=f"{remote}:{tag}")
    existing = remote_digest(report.image, registry)
    if existing is not None:
        report.digest, report.skipped = existing, True
        return report
    engine.client().images.get(local_image).tag(remote, tag)
    stream = engine.client().api.push(remote, tag, auth_config=registry.auth_config, stream=True, decode=True)
    try:
        read_push_stream(stream, report)
    finally:  # the remote name was only needed for the push; the image keeps its local tags
        engine.client().images.remove(report.image, noprune=True)
    if not report.digest:
        raise DeployFailed(f"pushing {report.image} ended without a digest; check the registry and retry")
    return report


def read_push_stream(chunks: Iterable[dict[str, Any]], report: PushReport) -> PushReport:
    """Fold Docker's push progress into REPORT: bytes per pushed layer, layers already there, the digest."""
    sent: dict[str, int] = {}
    for chunk in chunks:
        if "error" in chunk:
            raise DeployFailed(f"pushing {report.image} failed: {chunk['error']}")
        layer, status = str(chunk.get("id", "")), str(chunk.get("status", ""))
        if status == "Pushing":
            sent[layer] = max(sent.get(layer, 0), int(chunk.get("progressDetail", {}).get("current", 0)))
        elif status == "Pushed":
            report.pushed[layer] = sent.get(layer, 0)
        elif status == "Layer already exists" or status.startswith("Mounted from"):
            report.existing.add(layer)
        if "Digest" in chunk.get("aux", {}):
            report.digest = str(chunk["aux"]["Digest"])
    return report


def image_tag(local_image: str) -> str:
    """A content tag for the function image: its image id (config digest), so equal images share a tag."""
    from lambdakit.images import engine

    image_id = str(engine.client().images.get(local_image).id)
    return "fn-" + image_id.split(":", 1)[-1][:12]


# --- sam deploy ---------------------------------------------------------------------------------------------


def write_deploy_template(built_template: Path, image_uri: str, asset_image: str, out: Path) -> Path:
    """The built template with the function pinned to its pushed digest (and the asset image it was built
    from recorded as the AssetImage parameter's default, so the stack says which weights it runs)."""
    from ruamel.yaml import YAML

    from lambdakit.config import template

    yaml = YAML()
    document = template.load(built_template)
    template.function_resource(document, LOGICAL_ID, built_template)["Properties"]["ImageUri"] = image_uri
    parameter = (document.get("Parameters") or {}).get("AssetImage")
    if parameter is not None:
        parameter["Default"] = asset_image
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        yaml.dump(document, handle)
    return out


def sam_deploy_argv(
    sam: str,
    config: DeployConfig,
    template_file: Path,
    region: str,
    image_repository: str,
    extra: Iterable[str] = (),
) -> list[str]:
    return [
        sam,
        "deploy",
        "--config-file",
        str(config.path.resolve()),
        "--template-file",
        str(template_file),
        "--stack-name",
        config.stack_name,
        "--region",
        region,
        "--image-repository",
        image_repository,
        "--no-confirm-changeset",
        "--no-fail-on-empty-changeset",
        *extra,
    ]


def run_streamed(argv: list[str]) -> tuple[int, str]:
    """Run ARGV, echo its output live (it is a long step), and return (exit status, output)."""
    lines: list[str] = []
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        assert process.stdout is not None
        for line in process.stdout:
            print(f"  sam | {line}", end="", flush=True)
            lines.append(line)
    return process.returncode, "".join(lines)


def stack_state(cfn: Any, stack: str) -> tuple[str | None, str | None]:
    """(stack status, first failure reason of its latest operation); (None, None) when there is no stack."""
    from botocore.exceptions import ClientError

    try:
        status = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
        events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
    except ClientError:
        return None, None
    return str(status), first_failure(events)


def first_failure(events: list[dict[str, Any]]) -> str | None:
    """The earliest *_FAILED event since the latest operation began (events come newest first)."""
    reason = None
    for event in events:
        if str(event.get("ResourceStatus", "")).endswith("FAILED"):
            reason = (
                f"{event.get('LogicalResourceId')}: {event.get('ResourceStatusReason', 'no reason given')}"
            )
        if event.get("ResourceType") == "AWS::CloudFormation::Stack" and event.get("ResourceStatus") in {
            "UPDATE_IN_PROGRESS",
            "CREATE_IN_PROGRESS",
        }:
            break
    return reason


def explain_failure(output: str, status: str | None, reason: str | None, stack: str) -> str:
    """One line: what failed, and what CloudFormation did about it."""
    error = next((line.strip() for line in reversed(output.splitlines()) if "Error" in line), "")
    what = reason or error or "sam deploy failed (see its output above)"
    if status is None:
        return f"deploy failed: {what}; no stack {stack} exists yet (nothing was created)"
    if status == "ROLLBACK_COMPLETE":
        return (
            f"deploy failed: {what}; CloudFormation rolled back the new stack {stack}: delete it "
            f"(`sam delete --stack-name {stack}`) and deploy again"
        )
    if "ROLLBACK" in status:
        return (
            f"deploy failed: {what}; CloudFormation rolled back to the previous version ({status}), "
            "which keeps serving"
        )
    return f"deploy failed before the stack changed: {what}; the previous version keeps serving ({status})"


def stack_outputs(cfn: Any, stack: str) -> dict[str, str]:
    from botocore.exceptions import ClientError

    try:
        described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    except ClientError as exc:
        raise ConfigError(
            f"stack {stack} not found ({_aws_error(exc)}); deploy it first: nox -s deploy"
        ) from exc
    return {str(o["OutputKey"]): str(o["OutputValue"]) for o in described.get("Outputs", [])}


def deployed_function(config: DeployConfig, region: str | None = None, session: Any = None) -> FunctionInfo:
    """The function's name and ARN from the stack outputs (`InferenceFunctionName`/`Arn` in template.yaml)."""
    import boto3

    session = session or boto3.Session(region_name=region or None)
    if not session.region_name:
        session = boto3.Session(region_name=config.region)
    outputs = stack_outputs(session.client("cloudformation"), config.stack_name)
    if NAME_OUTPUT not in outputs:
        raise ConfigError(f"stack {config.stack_name} has no output {NAME_OUTPUT}; pass --function NAME")
    return FunctionInfo(name=outputs[NAME_OUTPUT], arn=outputs.get(ARN_OUTPUT, ""))


def template_timeout() -> int | None:
    """The function's Timeout from template.yaml (the invoke client waits longer than this)."""
    from lambdakit.config import template

    try:
        return template.limits().timeout_s
    except KitError:
        return None


# --- the whole deploy ---------------------------------------------------------------------------------------


def deploy(
    config: DeployConfig | None = None,
    extra_args: Iterable[str] = (),
    built_template: Path = BUILT_TEMPLATE,
    function_local: str | None = None,
) -> DeployReport:
    """Pre-flight, repositories, pushes, `sam deploy`; a `DeployReport`, or a `KitError` saying what failed.

    `function_local` deploys another local image than the one `sam build` made (the rehearsal's code change).
    """
    from lambdakit.core import proc

    started = time.monotonic()
    config = config or DeployConfig.load()
    step("pre-flight: engine, sam, credentials, region, images")
    session, account = preflight(config, built_template)
    region = str(session.region_name)
    print(f"account {account}, region {region}, stack {config.stack_name}")
    ecr = session.client("ecr")
    step(f"ECR repositories {config.asset_repository}, {config.function_repository}")
    for repository in (config.asset_repository, config.function_repository):
        ensure_repository(ecr, repository)
    registry = registry_login(ecr)
    step("push the asset image (skipped when its content tag is already there)")
    asset_local, asset_tag = local_asset_image(config.project)
    assets = push(asset_local, registry, config.asset_repository, asset_tag)
    print(assets.summary())
    step("push the function image")
    local = function_local or function_image(built_template)
    code = push(local, registry, config.function_repository, image_tag(local))
    print(code.summary())
    image_uri = f"{registry.host}/{config.function_repository}@{code.digest}"
    template_file = write_deploy_template(
        built_template, image_uri, assets.image, settings.build_dir() / "deploy" / "template.yaml"
    )
    step(f"sam deploy {config.stack_name} ({image_uri})")
    argv = sam_deploy_argv(
        proc.find_tool("sam", SAM_FIX),
        config,
        template_file,
        region,
        f"{registry.host}/{config.function_repository}",
        extra_args,
    )
    status, output = run_streamed(argv)
    cfn = session.client("cloudformation")
    if status != 0:
        raise DeployFailed(explain_failure(output, *stack_state(cfn, config.stack_name), config.stack_name))
    function = deployed_function(config, session=session)
    return DeployReport(
        stack=config.stack_name,
        function=function,
        image_uri=image_uri,
        assets=assets,
        code=code,
        changed=NO_CHANGES not in output,
        seconds=time.monotonic() - started,
    )


def step(text: str) -> None:
    print(f"# {text}", flush=True)


def human_bytes(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def _aws_error(exc: Any) -> str:
    error = getattr(exc, "response", {}).get("Error", {})
    return f"{error.get('Code', 'Error')}: {error.get('Message', str(exc))}"


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "explanation", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m lambdakit deploy", description=__doc__.splitlines()[0])
    parser.add_argument(
        "sam_args", nargs=argparse.REMAINDER, help="passed on to `sam deploy` (e.g. --region X)"
    )
    args = parser.parse_args(argv)
    report = deploy(extra_args=[a for a in args.sam_args if a != "--"])
    print_report(report)
    return 0


def print_report(report: DeployReport) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"stack {report.stack}: {'updated' if report.changed else 'no changes'}", show_header=False
    )
    table.add_row("function", report.function.name)
    table.add_row("ARN", report.function.arn)
    table.add_row("image", report.image_uri)
    table.add_row("asset image", report.assets.summary())
    table.add_row("function image", report.code.summary())
    table.add_row("took", f"{report.seconds:.1f} s")
    Console(file=sys.stdout, width=200).print(table)
