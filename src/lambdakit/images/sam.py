"""The SAM CLI as the kit runs it: found beside the interpreter, offline-safe environment, argv builders."""

from __future__ import annotations

import os
from collections.abc import Mapping

from lambdakit.core import proc, settings


def executable() -> str:
    return proc.find_tool("sam", "install the dev packages (`pipenv install --dev`, or run through nox)")


def environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """No telemetry, no instance-metadata probing (it hangs `sam local` off EC2), and always a region."""
    env = dict(os.environ if base is None else base)
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or settings.LOCAL_REGION
    env.update({"SAM_CLI_TELEMETRY": "0", "AWS_EC2_METADATA_DISABLED": "true", "AWS_DEFAULT_REGION": region})
    return env


def parameter_overrides(values: Mapping[str, str]) -> list[str]:
    """`--parameter-overrides` in SAM's `Key=Value Key=Value` form (image references contain no spaces)."""
    if not values:
        return []
    return ["--parameter-overrides", " ".join(f"{key}={value}" for key, value in values.items())]
