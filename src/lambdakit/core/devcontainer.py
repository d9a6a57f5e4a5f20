"""`python -m lambdakit check-devcontainer`: the Dev Container's Python is the project's Lambda runtime.

devcontainer.json cannot read pyproject.toml, so the one place that names the Dev Container's Python is its
build argument `PYTHON_VERSION` (`.devcontainer/devcontainer.json`, `build.args`); the Dockerfile builds FROM
`mcr.microsoft.com/devcontainers/python:3-<PYTHON_VERSION>-trixie`. This check keeps that argument equal to
`[tool.lambdakit] python` (pre-commit runs it, so `nox -s lint` does too). A checkout without
`.devcontainer/` passes: the Dev Container is optional.

Standard library only: the git hook may run it on any Python 3.11+.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from lambdakit.core.errors import ConfigError
from lambdakit.core.settings import REPO_ROOT, project_runtime

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


def python_version(repo: Path = REPO_ROOT) -> str | None:
    """The Dev Container's Python (`build.args.PYTHON_VERSION`); None when there is no Dev Container."""
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
            f'"{project_runtime(repo).python}"): it names the Dev Container\'s Python, which must be '
            "[tool.lambdakit] python in pyproject.toml."
        )
    return version


def check(repo: Path = REPO_ROOT) -> str | None:
    """Refuse a Dev Container whose Python is not `[tool.lambdakit] python`; return the version checked."""
    version = python_version(repo)
    if version is None:
        return None
    wanted = project_runtime(repo).python
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


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lambdakit check-devcontainer", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--repo", type=Path, default=REPO_ROOT, help="the project's folder (default: this one)"
    )
    args = parser.parse_args(argv)
    version = check(args.repo)
    if version is not None:
        print(f"{DEVCONTAINER_JSON}: Python {version}, as [tool.lambdakit] python")
    return 0
