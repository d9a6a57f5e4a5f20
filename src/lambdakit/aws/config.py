"""The AWS side of the project's configuration, read once: `samconfig.toml` and the region.

`deploy`, `invoke` and `rehearse` take an `AwsConfig` and pass it down; nothing below them reads the file.
The function's timeout comes from the `Template` the command loaded at its entry (template.yaml is read
once, there). The region is resolved in one place (`resolve_region()`): the command line, then the
environment (`AWS_REGION`, `AWS_DEFAULT_REGION`, the profile), then `samconfig.toml`.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from lambdakit.config import template
from lambdakit.config.template import Template
from lambdakit.core import settings
from lambdakit.core.errors import ConfigError

SAMCONFIG = settings.REPO_ROOT / "samconfig.toml"
BUILT_TEMPLATE = settings.REPO_ROOT / ".aws-sam" / "build" / "template.yaml"
FUNCTION_ID = template.FUNCTION_ID
NAME_OUTPUT, ARN_OUTPUT = f"{FUNCTION_ID}Name", f"{FUNCTION_ID}Arn"


@dataclass(frozen=True)
class AwsConfig:
    """`samconfig.toml` [default.deploy.parameters], the project the repositories are named after, and the
    function's timeout from the command's template (the invoke client waits longer than that)."""

    stack_name: str
    region: str
    project: str
    function_timeout_s: int | None = None
    path: Path = SAMCONFIG
    built_template: Path = BUILT_TEMPLATE

    @property
    def asset_repository(self) -> str:
        return f"{self.project}-assets"

    @property
    def function_repository(self) -> str:
        return f"{self.project}-function"

    def resolve_region(self, explicit: str | None = None) -> str:
        """The region every AWS call of this run uses; a one-line error when none is set anywhere."""
        found = explicit or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        found = found or _profile_region() or self.region
        if not found:
            raise ConfigError(f"no AWS region: set AWS_REGION, or `region` in {self.path.name}")
        return found


def load(tpl: Template | None, path: Path = SAMCONFIG) -> AwsConfig:
    """samconfig.toml's deploy parameters, and the function's timeout from TPL, the template the command
    loaded (None: the command needs no timeout, or invoke found the template broken and waits the maximum)."""
    project = settings.project_name()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path} is missing; it holds the stack name and region for `sam deploy`") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); fix it and retry") from exc
    deploy = document.get("default", {}).get("deploy", {}).get("parameters", {})
    return AwsConfig(
        stack_name=str(deploy.get("stack_name", project)),
        region=str(deploy.get("region", "")),
        project=project,
        function_timeout_s=tpl.target.timeout_s if tpl else None,
        path=path,
    )


def _profile_region() -> str | None:
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        return boto3.Session().region_name
    except BotoCoreError as exc:  # e.g. AWS_PROFILE names a profile that does not exist
        raise ConfigError(f"AWS configuration error: {exc}; check AWS_PROFILE and ~/.aws/config") from exc
