"""The SAM CLI as the kit runs it: found beside the interpreter, offline-safe environment, argv builders."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from lambdakit import console
from lambdakit.core import proc, settings
from lambdakit.images import engine

log = logging.getLogger(__name__)


def executable() -> str:
    return proc.find_tool("sam", "install the dev packages (`pipenv install --dev`, or run through nox)")


def environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """No telemetry, no instance-metadata probing (it hangs `sam local` off EC2), and always a region."""
    env = dict(os.environ if base is None else base)
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or settings.LOCAL_REGION
    env.update({"SAM_CLI_TELEMETRY": "0", "AWS_EC2_METADATA_DISABLED": "true", "AWS_DEFAULT_REGION": region})
    return env


def show_build_line(line: str, bar: console.Bar) -> None:
    """A line of `sam build`'s output: the builder's steps move BAR, SAM's warnings are logged as warnings,
    the rest (the builder's stream, SAM's own next-steps text) are debug records."""
    if line.lstrip().lower().startswith("warning"):
        log.warning("sam build: %s", line.strip())
    else:
        engine.show_build_line(line, bar)


def parameter_overrides(values: Mapping[str, str]) -> list[str]:
    """`--parameter-overrides` in SAM's `Key=Value Key=Value` form (image references contain no spaces)."""
    if not values:
        return []
    return ["--parameter-overrides", " ".join(f"{key}={value}" for key, value in values.items())]
