"""Read Pipfile/Pipfile.lock, the single source of dependencies, into pip requirements.

Standard library only (used by `noxfile.py` before any environment exists); the output matches
`pipenv requirements --hash`, without needing pipenv installed.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from lambdakit.core.errors import ConfigError
from lambdakit.core.settings import REPO_ROOT

LOCK_SECTIONS = {"packages": "default", "dev-packages": "develop"}


def locked_requirements(
    categories: tuple[str, ...], repo: Path = REPO_ROOT, hashes: bool = True
) -> list[str]:
    """Pinned requirement lines (with hashes) of the given Pipfile categories, from Pipfile.lock."""
    lock_path = repo / "Pipfile.lock"
    if not lock_path.is_file():
        raise ConfigError(f"{lock_path} is missing; run `pipenv lock` to create it from the Pipfile.")
    lock = json.loads(lock_path.read_text(encoding="utf-8"))
    lines: dict[str, str] = {}
    for category in categories:
        section = LOCK_SECTIONS.get(category, category)
        if section not in lock:
            raise ConfigError(
                f"Pipfile.lock has no [{category}] section; run `pipenv lock` after editing the Pipfile."
            )
        for name, entry in sorted(lock[section].items()):
            lines[name] = _requirement(name, entry, hashes)
    return list(lines.values())


def locked_constraints(categories: tuple[str, ...], repo: Path = REPO_ROOT) -> list[str]:
    """The same pins as constraints for pip `-c` (which refuses extras and hashes)."""
    return [_strip_extras(line) for line in locked_requirements(categories, repo, hashes=False)]


def _strip_extras(line: str) -> str:
    name, bracket, rest = line.partition("[")
    return name + rest.partition("]")[2] if bracket else line


def pipfile_requirements(category: str, repo: Path = REPO_ROOT, missing_ok: bool = False) -> list[str]:
    """Requirement specifiers of an unlocked Pipfile category (e.g. `prepare-packages`, pinned with ==)."""
    pipfile = tomllib.loads((repo / "Pipfile").read_text(encoding="utf-8"))
    if category not in pipfile:
        if missing_ok:
            return []
        raise ConfigError(f"The Pipfile has no [{category}] section.")
    return [f"{name}{spec if spec != '*' else ''}" for name, spec in pipfile[category].items()]


def write_requirements(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def _requirement(name: str, entry: dict[str, object], hashes: bool) -> str:
    extras = entry.get("extras")
    line = name + (f"[{','.join(map(str, extras))}]" if isinstance(extras, list) and extras else "")
    line += str(entry.get("version", ""))
    if entry.get("markers"):
        line += f" ; {entry['markers']}"
    if hashes:
        line += "".join(f" --hash={digest}" for digest in entry.get("hashes", []))  # type: ignore[attr-defined]
    return line
