"""Read Pipfile/Pipfile.lock, the single source of dependencies, into pip requirements.

Standard library only (used by `noxfile.py` before any environment exists); the output matches
`pipenv requirements --hash`, without needing pipenv installed.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from lambdakit.core.errors import ConfigError
from lambdakit.core.settings import REPO_ROOT

LOCK_SECTIONS = {"packages": "default", "dev-packages": "develop"}
PYPI_SIMPLE = "https://pypi.org/simple"


def locked_requirements(
    categories: tuple[str, ...], repo: Path = REPO_ROOT, hashes: bool = True
) -> list[str]:
    """Pinned requirement lines (with hashes) of the given Pipfile categories, from Pipfile.lock."""
    _, entries = _locked_entries(categories, repo)
    return [_requirement(name, entry, hashes) for name, entry in entries.items()]


def locked_groups(
    categories: tuple[str, ...], repo: Path = REPO_ROOT, hashes: bool = True
) -> list[tuple[str | None, list[str]]]:
    """The same lines grouped by the index each package is bound to (`index = "NAME"` in the Pipfile).

    `(None, lines)` first: packages from PyPI, fetched from pip's configured index (so a PIP_INDEX_URL
    mirror of PyPI keeps working); then `(url, lines)` per other index — the Pipfile's first [[source]] when
    it is not PyPI, and each source a package names — fetched from that index alone (a CUDA torch or a
    look-alike package cannot slip in from PyPI).
    """
    lock, entries = _locked_entries(categories, repo)
    sources = {str(s.get("name")): str(s.get("url")) for s in lock.get("_meta", {}).get("sources", [])}
    default = next(iter(sources), None)
    groups: dict[str | None, list[str]] = {None: []}
    for name, entry in entries.items():
        index = entry.get("index")
        if index is not None and str(index) not in sources:
            raise ConfigError(
                f"Pipfile.lock binds {name} to index {index!r}, which is not one of its sources "
                f"({', '.join(sources) or 'none'}): add that [[source]] to the Pipfile and run `pipenv lock`."
            )
        url = sources.get(str(index or default))
        url = None if url is None or url.rstrip("/") == PYPI_SIMPLE else url
        groups.setdefault(url, []).append(_requirement(name, entry, hashes))
    return [(url, lines) for url, lines in groups.items() if lines or url is None]


def _locked_entries(
    categories: tuple[str, ...], repo: Path
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    lock_path = repo / "Pipfile.lock"
    if not lock_path.is_file():
        raise ConfigError(f"{lock_path} is missing; run `pipenv lock` to create it from the Pipfile.")
    lock = json.loads(lock_path.read_text(encoding="utf-8"))
    entries: dict[str, dict[str, Any]] = {}
    for category in categories:
        section = LOCK_SECTIONS.get(category, category)
        if section not in lock:
            raise ConfigError(
                f"Pipfile.lock has no [{category}] section; run `pipenv lock` after editing the Pipfile."
            )
        for name, entry in sorted(lock[section].items()):
            entries[name] = entry
    return lock, entries


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
