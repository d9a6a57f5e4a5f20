"""The Dev Container's Python is the project's Lambda runtime (`python -m lambdakit check-devcontainer`).

devcontainer.json cannot read pyproject.toml, so the one place that names the Dev Container's Python is its
build argument `PYTHON_VERSION` (`.devcontainer/devcontainer.json`, `build.args`); the Dockerfile builds FROM
`mcr.microsoft.com/devcontainers/python:3-<PYTHON_VERSION>-trixie`. This check keeps that argument equal to
`[tool.lambdakit] python` (pre-commit runs it, so `nox -s lint` does too). A checkout without
`.devcontainer/` passes: the Dev Container is optional.

Standard library only: the git hook may run it on any Python 3.11+.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from lambdakit.core.errors import ConfigError

DEVCONTAINER_JSON = Path(".devcontainer") / "devcontainer.json"
DOCKERFILE = Path(".devcontainer") / "Dockerfile"
VERSION_ARG = "PYTHON_VERSION"
# `"..."` (with escapes), a `//` comment to the line's end, a `/* */` comment, or a comma before } or ]
_JSONC_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|//[^\n]*|/\*.*?\*/|,(?=\s*[}\]])', re.DOTALL)


def read_jsonc(text: str) -> Any:
    """JSON with comments and trailing commas, as VS Code and the Dev Containers CLI read it."""

    def keep_strings(match: re.Match[str]) -> str:
        return match.group(0) if match.group(0).startswith('"') else ""

    return json.loads(_JSONC_TOKEN.sub(keep_strings, text))


def python_version(repo: Path, wanted: str) -> str | None:
    """The Dev Container's Python (`build.args.PYTHON_VERSION`) in REPO; None when there is no Dev Container.
    WANTED (`[tool.lambdakit] python`) is the example a missing argument's message gives."""
    path = repo / DEVCONTAINER_JSON
    if not path.is_file():
        return None
    try:
        config = read_jsonc(path.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{DEVCONTAINER_JSON} is not valid JSON with comments ({exc}); fix the syntax."
        ) from None
    version = (
        (config.get("build") or {}).get("args", {}).get(VERSION_ARG) if isinstance(config, dict) else None
    )
    if not isinstance(version, str):
        raise ConfigError(
            f'{DEVCONTAINER_JSON} has no build.args.{VERSION_ARG} (e.g. "{VERSION_ARG}": '
            f'"{wanted}"): it names the Dev Container\'s Python, which must be '
            "[tool.lambdakit] python in pyproject.toml."
        )
    return version


def check(wanted: str, repo: Path) -> str | None:
    """Refuse a Dev Container in REPO whose Python is not WANTED (`[tool.lambdakit] python`); return the
    version checked."""
    version = python_version(repo, wanted)
    if version is None:
        return None
    if version != wanted:
        raise ConfigError(
            f"{DEVCONTAINER_JSON} builds the Dev Container on Python {version} but pyproject.toml's "
            f'[tool.lambdakit] python is {wanted}: set "{VERSION_ARG}": "{wanted}" in {DEVCONTAINER_JSON} '
            "(build.args), then rebuild the container."
        )
    dockerfile = repo / DOCKERFILE
    if dockerfile.is_file() and not re.search(
        rf"^FROM\s.*\$\{{{VERSION_ARG}\}}", dockerfile.read_text(), re.MULTILINE
    ):
        raise ConfigError(
            f"{DOCKERFILE} does not build FROM an image named by ${{{VERSION_ARG}}}, so the Dev Container's "
            f"Python may not be {wanted}: build `FROM <repository>:<a tag with ${{{VERSION_ARG}}}>` as the "
            "kit's does."
        )
    return version
