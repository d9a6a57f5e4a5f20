"""The CloudFormation side of a deploy: the template pinned to the pushed image, `sam deploy`, and what the
stack says afterwards (outputs, status, the first failure of its latest operation)."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from ruamel.yaml import YAML

from lambdakit.aws.config import ARN_OUTPUT, FUNCTION_ID, NAME_OUTPUT, AwsConfig
from lambdakit.aws.errors import aws_error, unreachable
from lambdakit.config import template
from lambdakit.core.config import ProjectConfig
from lambdakit.core.errors import ConfigError

log = logging.getLogger(__name__)
NO_CHANGES = "No changes to deploy"


def write_deploy_template(
    built_template: Path,
    image_uri: str,
    asset_image: str,
    out: Path,
    project: ProjectConfig,
) -> Path:
    """The built template with the function pinned to its pushed digest (and the asset image it was built
    from recorded as the AssetImage parameter's default, so the stack says which weights it runs), and
    SnapStart with its alias when the target has it (`template.for_deploy`)."""
    document = template.read(built_template)
    template.for_deploy(document, project, built_template)
    template.function_resource(document, FUNCTION_ID, built_template)["Properties"]["ImageUri"] = image_uri
    parameter = (document.get("Parameters") or {}).get("AssetImage")
    if parameter is not None:
        parameter["Default"] = asset_image
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        YAML().dump(document, handle)
    return out


def sam_deploy_argv(
    sam: str,
    config: AwsConfig,
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
        "--s3-prefix",
        config.project.stack_name,
        "--tags",
        f"project={config.project.project} managed-by=lambda-ml-kit",
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
            log.info("sam | %s", line.rstrip("\n"))
            lines.append(line)
    return process.returncode, "".join(lines)


def state(cfn: Any, stack: str) -> tuple[str | None, str | None]:
    """(stack status, first failure reason of its latest operation); (None, None) when there is no stack."""
    try:
        status = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
        events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
    except ClientError:
        return None, None
    except BotoCoreError as exc:
        raise unreachable(exc, cfn, f"read the state of stack {stack}", "rerun the deploy") from None
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


def outputs(cfn: Any, stack: str) -> dict[str, str]:
    try:
        described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    except ClientError as exc:
        raise ConfigError(
            f"stack {stack} not found ({aws_error(exc)}); deploy it first: nox -s deploy"
        ) from exc
    except BotoCoreError as exc:
        raise unreachable(
            exc, cfn, f"ask CloudFormation for stack {stack}'s outputs", "pass --function NAME to invoke"
        ) from None
    return {str(o["OutputKey"]): str(o["OutputValue"]) for o in described.get("Outputs", [])}


def deployed_function(cfn: Any, stack: str) -> tuple[str, str, str]:
    """(name, ARN, alias ARN or "") of the function from the stack outputs (`InferenceFunctionName`/`Arn` in
    template.yaml, `InferenceFunctionAlias` which deploy adds with SnapStart)."""
    found = outputs(cfn, stack)
    if NAME_OUTPUT not in found:
        raise ConfigError(f"stack {stack} has no output {NAME_OUTPUT}; pass --function NAME")
    return found[NAME_OUTPUT], found.get(ARN_OUTPUT, ""), found.get(template.ALIAS_OUTPUT, "")
