"""`[tool.lambdakit]` in pyproject.toml: the contract between the kit and the user's function.

    [tool.lambdakit]
    project = "myapp"                                # prefixes every image, repository and the stack
    handler = "inference.handler.lambda_handler"     # module.function Lambda calls (the default)
    prepare = ["python", "-m", "inference.prepare"]  # optional build-time hook, run before the snapshot
    python = "3.13"                                  # the Lambda runtime: 3.12, 3.13 (default) or 3.14
    prepare-python = "3.11"                          # optional: the hook's own interpreter (default: python)
    assets = ["src/app/model.onnx"]                  # optional: committed files shipped in the asset layer
    snapstart = true                                 # optional: deploy with SnapStart behind an alias

Read once (standard library only: `noxfile.py` imports it) into a frozen `ProjectConfig`. A new key is one
field with a default plus one entry in `PARSERS`.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from lambdakit.core import files, runtimes
from lambdakit.core.errors import BrokenFile, ConfigError
from lambdakit.core.settings import BASE_IMAGE_ENV, REPO_ROOT

TABLE = "tool.lambdakit"
DEFAULT_PROJECT = "lambda-ml-kit"
DEFAULT_HANDLER = "inference.handler.lambda_handler"
PREPARE_CATEGORY = "prepare-packages"  # the Pipfile category the prepare hook runs with
# Docker repository names are lowercase; CloudFormation stack names start with a letter and hold no `_`.
PROJECT_RE = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
PROJECT_MAX = 64
IDENTIFIER_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
KIT_PACKAGE = "lambdakit"
TABLE_FIX = f"write the kit's settings as a [{TABLE}] table (see docs/own-pipeline.md)"
VERSION_RE = re.compile(r"3\.\d{1,2}")
SOURCE_PREFIX = "src/"  # `assets` entries name files of the function's code, under src/
# sam build names the image after the function's logical id, lowercased; the tag is the project.
FUNCTION_IMAGE_REPOSITORY = "inferencefunction"


@dataclass(frozen=True)
class ProjectConfig:
    """The project's settings; every field has the default a fresh checkout of the kit needs."""

    project: str = DEFAULT_PROJECT
    handler: str = DEFAULT_HANDLER
    prepare: tuple[str, ...] = ()
    python: str = runtimes.DEFAULT_PYTHON
    assets: tuple[str, ...] = ()  # paths or globs under src/: committed files that go to the asset layer
    prepare_python: str | None = None  # the build-time hook's interpreter when its packages need another
    snapstart: bool = False  # SnapStart on published versions (config/target.py), or template.yaml's own

    @property
    def hook_python(self) -> str:
        """The Python the prepare hook runs on: `prepare-python`, else the runtime's."""
        return self.prepare_python or self.python

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

    # Every name derived from `project`, built here only: several checkouts may share one Docker engine and
    # one AWS account, so each image, repository, container and stack carries the project's name.

    @property
    def stack_name(self) -> str:
        """The CloudFormation stack (and S3 prefix) of `sam deploy`."""
        return self.project

    @property
    def function_image(self) -> str:
        """The function image `sam build` tags (template parameter FunctionImageTag = the project)."""
        return f"{FUNCTION_IMAGE_REPOSITORY}:{self.project}"

    @property
    def assets_repository(self) -> str:
        """The asset image's repository, locally and in ECR."""
        return f"{self.project}-assets"

    @property
    def function_repository(self) -> str:
        """The function image's ECR repository."""
        return f"{self.project}-function"

    @property
    def base_image(self) -> str:
        """The Lambda base the function image is built FROM: LAMBDAKIT_BASE_IMAGE (a stand-in, a mirror),
        else AWS's base of the runtime (public.ecr.aws/lambda/python:3.13)."""
        return os.environ.get(BASE_IMAGE_ENV) or self.runtime.base_image

    @property
    def container_prefix(self) -> str:
        """The start of every container name the kit runs for this project."""
        return f"{self.project}-lambda"


def _project(value: Any) -> str:
    if not isinstance(value, str) or not PROJECT_RE.fullmatch(value) or len(value) > PROJECT_MAX:
        raise ConfigError(
            f"[{TABLE}] project = {files.shown(value)} cannot name images and a stack: use lowercase "
            f"letters, digits and single hyphens, starting with a letter, at most {PROJECT_MAX} characters "
            "(e.g. 'myapp')."
        )
    return value


def _handler(value: Any) -> str:
    parts = value.split(".") if isinstance(value, str) else []
    if len(parts) < 2 or not all(IDENTIFIER_RE.fullmatch(part) for part in parts):
        raise ConfigError(
            f"[{TABLE}] handler = {files.shown(value)} is not `module.function`: name the function Lambda "
            f"calls, e.g. {DEFAULT_HANDLER!r}."
        )
    # Static, so it holds before any environment exists: the image ships the handler's package from src/
    # (`nox -s build` checks that folder), and a standard-library or kit function is never the function's.
    if parts[0] in sys.stdlib_module_names or parts[0] == KIT_PACKAGE:
        raise ConfigError(
            f"[{TABLE}] handler = {value!r} names a function of {parts[0]!r}, not of your function's code: "
            f"set it to the module.function under src/ that Lambda calls, e.g. {DEFAULT_HANDLER!r}."
        )
    return str(value)


def _prepare(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(w, str) and w for w in value):
        raise ConfigError(
            f"[{TABLE}] prepare = {files.shown(value)} must be a non-empty list of strings (an argv such as "
            f'["python", "-m", "mypkg.prepare"]); delete the key if the function needs no build-time step.'
        )
    return tuple(value)


def _python(value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(
            f"[{TABLE}] python = {files.shown(value)} must be a string, e.g. "
            f'python = "{runtimes.DEFAULT_PYTHON}" '
            "(as a number, 3.10 would read as 3.1)."
        )
    return runtimes.runtime(value).python


def _snapstart(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(
            f"[{TABLE}] snapstart = {value!r} must be true or false (unquoted); delete the key for off."
        )
    return value


def _prepare_python(value: Any) -> str:
    if not isinstance(value, str) or not VERSION_RE.fullmatch(value):
        raise ConfigError(
            f'[{TABLE}] prepare-python = {value!r} must be a Python version string such as "3.11" (the '
            "interpreter the prepare hook needs); delete the key to run the hook on `python`."
        )
    return value


def _assets(value: Any) -> tuple[str, ...]:
    entries = value if isinstance(value, list) else [None]
    for entry in entries:
        parts = PurePosixPath(entry).parts if isinstance(entry, str) else ()
        if len(parts) < 2 or parts[0] != SOURCE_PREFIX.rstrip("/") or ".." in parts or "\\" in str(entry):
            raise ConfigError(
                f"[{TABLE}] assets = {value!r} must be a list of paths or globs under src/ (e.g. "
                f'["src/app/model.onnx", "src/app/models/*.onnx"]), written with "/"; delete the key '
                "to ship every committed file with the code."
            )
    return tuple(value)


PARSERS: dict[str, Callable[[Any], Any]] = {
    "project": _project,
    "handler": _handler,
    "prepare": _prepare,
    "python": _python,
    "prepare-python": _prepare_python,
    "assets": _assets,
    "snapstart": _snapstart,
}


def parse(table: dict[str, Any], where: str = "pyproject.toml") -> ProjectConfig:
    """A `[tool.lambdakit]` table into a `ProjectConfig`; an unknown key is refused, since it is a typo.
    Every problem is one `BrokenFile` line that starts with WHERE, the file."""
    unknown = sorted(str(key) for key in set(table) - set(PARSERS))
    if unknown:
        raise BrokenFile(
            f"{where}: [{TABLE}] has unknown key(s) {', '.join(unknown)}; the known keys are "
            f"{', '.join(PARSERS)}."
        )
    values = {}
    for key, value in table.items():
        try:
            values[key.replace("-", "_")] = PARSERS[key](value)
        except ConfigError as exc:
            raise BrokenFile(f"{where}: {exc}") from None
    return ProjectConfig(**values)


@functools.cache
def load(repo: Path = REPO_ROOT) -> ProjectConfig:
    """The project's `[tool.lambdakit]` table (defaults when pyproject.toml or the table is absent)."""
    path = repo / "pyproject.toml"
    try:
        document = files.load_toml(path, "fix it and retry.")
    except FileNotFoundError:
        return ProjectConfig()
    where = files.display(path)
    tool = files.table(document.get("tool", {}), where, "tool", TABLE_FIX)
    table = files.table(tool.get("lambdakit", {}), where, TABLE, TABLE_FIX)
    return parse(table, where)


# Where the files `assets` names live in the image: under the cache root (the asset layer), each at its
# path below src/; the code layer keeps a symlink at the file's code path, so the function opens it unchanged.
CODE_ASSETS_DIR = "code-assets"


def code_asset_files(project: ProjectConfig, source: Path = REPO_ROOT / "src") -> list[str]:
    """The committed files `assets` names, as paths below SOURCE (src/): `app/model.onnx`, sorted.

    A pattern that matches no file is refused: a typo would otherwise ship the file in the code layer."""
    found: set[str] = set()
    for pattern in project.assets:
        matches = [p for p in source.glob(pattern.removeprefix(SOURCE_PREFIX)) if p.is_file()]
        if not matches:
            raise ConfigError(
                f"[{TABLE}] assets names {pattern!r}, which matches no file under {source}: fix the path "
                "(relative to the repository, e.g. 'src/app/model.onnx') or drop the entry."
            )
        found.update(p.relative_to(source).as_posix() for p in matches)
    return sorted(found)


def code_asset_image_path(relative: str) -> str:
    """`app/model.onnx` → `code-assets/app/model.onnx`, below the image's cache root."""
    return f"{CODE_ASSETS_DIR}/{relative}"
