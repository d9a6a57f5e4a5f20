"""The AWS side of the project's configuration, read once: `samconfig.toml` and the region.

`deploy`, `invoke` and `rehearse` take an `AwsConfig` and pass it down; nothing below them reads the file.
The region is resolved in one place (`region()`): the command line, then the environment (`AWS_REGION`,
`AWS_DEFAULT_REGION`, the profile), then `samconfig.toml`.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from lambdakit.config import template
from lambdakit.core import settings
from lambdakit.core.errors import ConfigError, KitError

SAMCONFIG = settings.REPO_ROOT / "samconfig.toml"
BUILT_TEMPLATE = settings.REPO_ROOT / ".aws-sam" / "build" / "template.yaml"
FUNCTION_ID = template.FUNCTION_ID
NAME_OUTPUT, ARN_OUTPUT = f"{FUNCTION_ID}Name", f"{FUNCTION_ID}Arn"


@dataclass(frozen=True)
class AwsConfig:
    """`samconfig.toml` [default.deploy.parameters], the project the repositories are named after, and the
    function's timeout from template.yaml (the invoke client waits longer than that)."""

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


def load(path: Path = SAMCONFIG) -> AwsConfig:
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
        function_timeout_s=_template_timeout(),
        path=path,
    )


def _template_timeout() -> int | None:
    try:
        return template.load().limits.timeout_s
    except KitError:  # a broken template is `build`'s to report; invoke then waits Lambda's maximum
        return None


def _profile_region() -> str | None:
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        return boto3.Session().region_name
    except BotoCoreError as exc:  # e.g. AWS_PROFILE names a profile that does not exist
        raise ConfigError(f"AWS configuration error: {exc}; check AWS_PROFILE and ~/.aws/config") from exc
