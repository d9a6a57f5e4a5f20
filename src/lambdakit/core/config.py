"""`[tool.lambdakit]` in pyproject.toml: the contract between the kit and the user's function.

    [tool.lambdakit]
    project = "triage"                               # prefixes every image, repository and the stack
    handler = "inference.handler.lambda_handler"     # module.function Lambda calls (the default)
    prepare = ["python", "-m", "inference.prepare"]  # optional build-time hook, run before the snapshot
    python = "3.13"                                  # the Lambda runtime: 3.12, 3.13 (default) or 3.14
    snapstart = true                                 # deploy with SnapStart, invoked through an alias

Read once (standard library only: `noxfile.py` imports it) into a frozen `ProjectConfig`. A new key is one
field with a default plus one entry in `PARSERS`.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambdakit.core import runtimes
from lambdakit.core.errors import ConfigError
from lambdakit.core.settings import REPO_ROOT

TABLE = "tool.lambdakit"
DEFAULT_PROJECT = "lambda-ml-kit"
DEFAULT_HANDLER = "inference.handler.lambda_handler"
PREPARE_CATEGORY = "prepare-packages"  # the Pipfile category the prepare hook runs with
# Docker repository names are lowercase; CloudFormation stack names start with a letter and hold no `_`.
PROJECT_RE = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
PROJECT_MAX = 64
IDENTIFIER_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class ProjectConfig:
    """The project's settings; every field has the default a fresh checkout of the kit needs."""

    project: str = DEFAULT_PROJECT
    handler: str = DEFAULT_HANDLER
    prepare: tuple[str, ...] = ()
    python: str = runtimes.DEFAULT_PYTHON
    snapstart: bool = False  # SnapStart on published versions (config/target.py), or template.yaml's own

    @property
    def runtime(self) -> runtimes.Runtime:
        """The Lambda runtime: base image, wheel tags, glibc (core/runtimes.py)."""
        return runtimes.RUNTIMES[self.python]

    @property
    def handler_module(self) -> str:
        return self.handler.rpartition(".")[0]

    @property
    def handler_function(self) -> str:
        return self.handler.rpartition(".")[2]

    @property
    def handler_package(self) -> str:
        """The top-level package that holds the handler: what the image's code layer ships from src/."""
        return self.handler.partition(".")[0]


def _project(value: Any) -> str:
    if not isinstance(value, str) or not PROJECT_RE.fullmatch(value) or len(value) > PROJECT_MAX:
        raise ConfigError(
            f"[{TABLE}] project = {value!r} cannot name images and a stack: use lowercase letters, digits "
            f"and single hyphens, starting with a letter, at most {PROJECT_MAX} characters (e.g. 'triage')."
        )
    return value


def _handler(value: Any) -> str:
    parts = value.split(".") if isinstance(value, str) else []
    if len(parts) < 2 or not all(IDENTIFIER_RE.fullmatch(part) for part in parts):
        raise ConfigError(
            f"[{TABLE}] handler = {value!r} is not `module.function`: name the function Lambda calls, "
            f"e.g. {DEFAULT_HANDLER!r}."
        )
    return str(value)


def _prepare(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(w, str) and w for w in value):
        raise ConfigError(
            f"[{TABLE}] prepare = {value!r} must be a non-empty list of strings (an argv such as "
            f'["python", "-m", "mypkg.prepare"]); delete the key if the function needs no build-time step.'
        )
    return tuple(value)


def _python(value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(
            f'[{TABLE}] python = {value!r} must be a string, e.g. python = "{runtimes.DEFAULT_PYTHON}" '
            "(as a number, 3.10 would read as 3.1)."
        )
    return runtimes.runtime(value).python


def _snapstart(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(
            f"[{TABLE}] snapstart = {value!r} must be true or false (unquoted); delete the key for off."
        )
    return value


PARSERS: dict[str, Callable[[Any], Any]] = {
    "project": _project,
    "handler": _handler,
    "prepare": _prepare,
    "python": _python,
    "snapstart": _snapstart,
}


def parse(table: dict[str, Any], where: str = "pyproject.toml") -> ProjectConfig:
    """A `[tool.lambdakit]` table into a `ProjectConfig`; an unknown key is refused, since it is a typo."""
    unknown = sorted(set(table) - set(PARSERS))
    if unknown:
        raise ConfigError(
            f"{where}: [{TABLE}] has unknown key(s) {', '.join(unknown)}; the known keys are "
            f"{', '.join(PARSERS)}."
        )
    return ProjectConfig(**{key: PARSERS[key](value) for key, value in table.items()})


@functools.cache
def load(repo: Path = REPO_ROOT) -> ProjectConfig:
    """The project's `[tool.lambdakit]` table (defaults when pyproject.toml or the table is absent)."""
    path = repo / "pyproject.toml"
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ProjectConfig()
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); fix it and retry.") from exc
    table = document.get("tool", {}).get("lambdakit", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{TABLE}] must be a table.")
    return parse(table, str(path))
