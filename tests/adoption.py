"""Adopt an example pipeline into a copy of this repository by the steps of docs/own-pipeline.md.

The steps, and nothing else: (1) replace src/inference/, (2) replace the Pipfile's [packages] with the
example's and `pipenv lock`, (3) replace events/, (4) replace tests/function/, (5) delete the demo's
build-time hook (`[tool.lambdakit] prepare` and the Pipfile's [prepare-packages] it ran with), and (6) for
an example that brings its own settings (`template.function.yaml`), those as the function's Properties in
template.yaml. The copy also gets its own `[tool.lambdakit] project`, so its images never meet another
checkout's on a shared engine.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from lambdakit.core import settings
from lambdakit.snapshot.tarball import sha256_of

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
TOOLS = settings.build_dir(REPO) / "tools"
# All the adoption steps touch: three folders and four files (template.yaml: the function's own settings).
STEP_DIRS = ("src/inference/", "events/", "tests/function/")
STEP_FILES = frozenset({"Pipfile", "Pipfile.lock", "pyproject.toml", "template.yaml"})
SETTINGS_FRAGMENT = "template.function.yaml"  # an example's own function Properties
PIPENV_PIN = re.compile(r"^ARG PIPENV_VERSION=(\S+)$", re.MULTILINE)
# What a nox session run from the tests would otherwise inherit from the outer `nox -s tests` session.
OUTER_ENV = {
    *settings.CACHE_SUBDIRS,
    *settings.OFFLINE_ENV,
    "PYTHONPATH",
    "VIRTUAL_ENV",
    "PYTHONDONTWRITEBYTECODE",
}


def repository_files() -> list[str]:
    """The repository's files as a fresh clone would have them (tracked and new, not git-ignored ones)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    # ls-files still lists a file deleted from the work tree
    return [name for name in listed.split("\0") if name and (REPO / name).is_file()]


def copy_repository(target: Path) -> dict[str, str]:
    """Copy the repository's files into `target`; the sha256 of each as copied."""
    copied = {}
    for name in repository_files():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target / name)
        copied[name] = sha256_of(target / name)
    return copied


def changed_files(root: Path, copied: dict[str, str], ignore: tuple[str, ...] = (".venv",)) -> set[str]:
    """Paths added, removed or modified in `root` since it was copied."""
    now = {
        str(path.relative_to(root)): sha256_of(path)
        for path in root.rglob("*")
        if path.is_file() and path.relative_to(root).parts[0] not in ignore
    }
    return {name for name in copied.keys() | now.keys() if copied.get(name) != now.get(name)}


def replace_dir(target: Path, source: Path) -> None:
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)


def replace_table(text: str, name: str, table: str) -> str:
    """`[name]` and its lines up to the next table, replaced by `table` ("" deletes it)."""
    pattern = re.compile(rf"^\[{re.escape(name)}\]\n.*?(?=^\[|\Z)", re.MULTILINE | re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"no [{name}] table")
    return pattern.sub(lambda _: table, text, count=1)


def fragment_table(fragment: Path, name: str) -> str:
    """The `[name]` table of a Pipfile fragment, comments before it left out."""
    table = re.search(rf"^\[{re.escape(name)}\]\n.*", fragment.read_text(), re.MULTILINE | re.DOTALL)
    assert table, f"{fragment} has no [{name}] table"
    return table[0].rstrip("\n") + "\n\n"


def with_function_properties(template: str, fragment: str) -> str:
    """template.yaml with the function's Properties (the lines between `    Properties:` and `    Metadata:`)
    replaced by FRAGMENT's lines (its comment lines left out)."""
    lines = "".join(line for line in fragment.splitlines(keepends=True) if not line.lstrip().startswith("#"))
    pattern = re.compile(r"^(    Properties:\n).*?(?=^    Metadata:\n)", re.MULTILINE | re.DOTALL)
    assert pattern.search(template), "template.yaml has no function Properties before its Metadata"
    return pattern.sub(lambda match: match[1] + lines, template, count=1)


def without_prepare_hook(pyproject: str) -> str:
    """pyproject.toml without `prepare = [...]`, `prepare-python = ...` and the comment lines above each."""
    text = re.sub(r"(?:^#[^\n]*\n)*^prepare = \[[^\]]*\]\n", "", pyproject, flags=re.MULTILINE)
    return re.sub(r'(?:^#[^\n]*\n)*^prepare-python = "[^"]*"\n', "", text, flags=re.MULTILINE)


def with_project(pyproject: str, project: str) -> str:
    return re.sub(r'^project = "[^"]*"$', f'project = "{project}"', pyproject, count=1, flags=re.MULTILINE)


@dataclass(frozen=True)
class Adopted:
    root: Path
    example: Path
    project: str
    copied: dict[str, str]  # the repository's files as copied, by sha256

    def changed_files(self) -> set[str]:
        return changed_files(self.root, self.copied)


def adopt(example: str, target: Path, project: str) -> Adopted:
    """Steps 1, 3, 4, 5 and the [packages] edit of step 2; `pipenv lock` in the copy is the rest of step 2."""
    source = EXAMPLES / example
    root = target
    copied = copy_repository(root)
    replace_dir(root / "src" / "inference", source / "src" / "inference")
    pipfile = root / "Pipfile"
    text = replace_table(
        pipfile.read_text(), "packages", fragment_table(source / "Pipfile.packages", "packages")
    )
    pipfile.write_text(replace_table(text, "prepare-packages", ""))
    for event in (root / "events").glob("*.json"):
        event.unlink()
    shutil.copytree(source / "events", root / "events", dirs_exist_ok=True)
    replace_dir(root / "tests" / "function", source / "tests" / "function")
    pyproject = root / "pyproject.toml"
    pyproject.write_text(with_project(without_prepare_hook(pyproject.read_text()), project))
    if (source / SETTINGS_FRAGMENT).is_file():
        template = root / "template.yaml"
        fragment = (source / SETTINGS_FRAGMENT).read_text()
        template.write_text(with_function_properties(template.read_text(), fragment))
    return Adopted(root, source, project, copied)


def pipenv() -> Path:
    """pipenv at the version the Dev Container pins, in a tool venv under build/tools (made once)."""
    version = PIPENV_PIN.search((REPO / ".devcontainer" / "Dockerfile").read_text())
    assert version, ".devcontainer/Dockerfile pins no PIPENV_VERSION"
    venv = TOOLS / f"pipenv-{version[1]}"
    executable = venv / "bin" / "pipenv"
    if not executable.is_file():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, f"pipenv=={version[1]}"], check=True, timeout=600)
    return executable


def user_env(**extra: str) -> dict[str, str]:
    """A developer's shell: this environment without what the outer nox session set, plus `extra`.

    pip keeps the developer's wheel cache: the kit's sessions point XDG_CACHE_HOME (pip's default base) at
    the copy's fresh cache root, which would download every wheel again.
    """
    pip_cache = os.environ.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip")
    env = {key: value for key, value in os.environ.items() if key not in OUTER_ENV} | {
        "PIP_CACHE_DIR": pip_cache
    }
    outer_venv = os.environ.get("VIRTUAL_ENV")
    if outer_venv:
        path = env.get("PATH", "").split(os.pathsep)
        env["PATH"] = os.pathsep.join(p for p in path if not p.startswith(outer_venv))
    return env | extra
