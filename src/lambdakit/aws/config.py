"""The AWS side of the project's configuration, read once: `samconfig.toml` and the region.

`deploy`, `invoke` and `rehearse` take an `AwsConfig` and pass it down; nothing below them reads the file.
The function's timeout comes from the `Template` the command loaded at its entry (template.yaml is read
once, there), the project's names (stack, repositories) from its `ProjectConfig`, loaded there too. The
region is resolved in one place (`resolve_region()`): the command line, then the environment (`AWS_REGION`,
`AWS_DEFAULT_REGION`, the profile), then `samconfig.toml`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambdakit.config import template
from lambdakit.config.template import Template
from lambdakit.core import files, settings
from lambdakit.core.config import ProjectConfig
from lambdakit.core.errors import ConfigError

SAMCONFIG = settings.REPO_ROOT / "samconfig.toml"
BUILT_TEMPLATE = settings.REPO_ROOT / ".aws-sam" / "build" / "template.yaml"
FUNCTION_ID = template.FUNCTION_ID
NAME_OUTPUT, ARN_OUTPUT = f"{FUNCTION_ID}Name", f"{FUNCTION_ID}Arn"
PARAMETERS = "default.deploy.parameters"
# Every AWS region is spelled so (us-east-1, eu-central-2, us-gov-west-1, cn-north-1): a value of another
# shape would send the calls to an endpoint that does not exist, and the failure would look like credentials.
REGION_RE = re.compile(r"[a-z]{2}(?:-[a-z]+)+-[0-9]+")
STACK_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,127}")
SAMCONFIG_FIX = (
    'see `sam deploy --help` for its layout: [default.deploy.parameters] stack_name = "...", region = "..."'
)


@dataclass(frozen=True)
class AwsConfig:
    """`samconfig.toml` [default.deploy.parameters], the project (its repositories, S3 prefix and tags), and
    the function's timeout from the command's template (the invoke client waits longer than that)."""

    stack_name: str
    region: str
    project: ProjectConfig
    function_timeout_s: int | None = None
    path: Path = SAMCONFIG
    built_template: Path = BUILT_TEMPLATE

    def resolve_region(self, explicit: str | None = None) -> str:
        """The region every AWS call of this run uses; a one-line error when none is set anywhere."""
        return resolve_region(self.region, self.path, explicit)


def resolve_region(samconfig_region: str, path: Path = SAMCONFIG, explicit: str | None = None) -> str:
    """The command line, then the environment (`AWS_REGION`, `AWS_DEFAULT_REGION`, the profile), then
    samconfig.toml's region (SAMCONFIG_REGION, read from PATH); a one-line error when none is set anywhere."""
    candidates = [
        ("--region", explicit),
        ("AWS_REGION", os.environ.get("AWS_REGION")),
        ("AWS_DEFAULT_REGION", os.environ.get("AWS_DEFAULT_REGION")),
    ]
    source, found = next(((name, value) for name, value in candidates if value), ("", None))
    if not found:
        source, found = "the AWS profile's region", _profile_region()
    if not found:
        source, found = f"region in {path.name}", samconfig_region
    if not found:
        raise ConfigError(f"no AWS region: set AWS_REGION, or `region` in {path.name}")
    if not REGION_RE.fullmatch(found):
        raise ConfigError(
            f"{source} = {files.shown(found)} is not an AWS region; set it to one such as 'eu-west-1'"
        )
    return found


def load(project: ProjectConfig, tpl: Template | None, path: Path = SAMCONFIG) -> AwsConfig:
    """samconfig.toml's deploy parameters (the stack is PROJECT's unless it names one), and the function's
    timeout from TPL, the template the command loaded (None: the command needs no timeout, or invoke found
    the template broken and waits the maximum)."""
    deploy = _read(path)
    return AwsConfig(
        stack_name=str(deploy.get("stack_name", project.stack_name)),
        region=str(deploy.get("region", "")),
        project=project,
        function_timeout_s=tpl.target.timeout_s if tpl else None,
        path=path,
    )


def region(path: Path = SAMCONFIG) -> str:
    """The region as deploy resolves it, for a caller that needs nothing else of the project (the ECR of
    `assets --publish`)."""
    return resolve_region(str(_read(path).get("region", "")), path)


def _read(path: Path) -> dict[str, Any]:
    try:
        document = files.load_toml(path, "fix it and retry")
    except FileNotFoundError:
        raise ConfigError(f"{path} is missing; it holds the stack name and region for `sam deploy`") from None
    return _parameters(document, files.display(path))


def _parameters(document: dict[str, Any], name: str) -> dict[str, Any]:
    """[default.deploy.parameters], each level a table, stack_name and region of the shapes AWS accepts."""
    found: dict[str, Any] = document
    key = ""
    for part in PARAMETERS.split("."):
        key = f"{key}.{part}" if key else part
        found = files.table(found.get(part, {}), name, f"[{key}]", SAMCONFIG_FIX)
    stack_name = found.get("stack_name")
    if stack_name is not None and not (isinstance(stack_name, str) and STACK_NAME_RE.fullmatch(stack_name)):
        raise ConfigError(
            f"{name}: stack_name = {files.shown(stack_name)} cannot name a CloudFormation stack; use "
            'a string of letters, digits and hyphens that starts with a letter (at most 128), e.g. "myapp"'
        )
    region = found.get("region")
    if region is not None and not (isinstance(region, str) and REGION_RE.fullmatch(region)):
        raise ConfigError(
            f"{name}: region = {files.shown(region)} is not an AWS region; write it as a string, "
            'e.g. region = "eu-west-1"'
        )
    return found


def _profile_region() -> str | None:
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        return boto3.Session().region_name
    except BotoCoreError as exc:  # e.g. AWS_PROFILE names a profile that does not exist
        raise ConfigError(f"AWS configuration error: {exc}; check AWS_PROFILE and ~/.aws/config") from exc
