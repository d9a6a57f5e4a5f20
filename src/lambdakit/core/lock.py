"""Read a Pipfile and its Pipfile.lock into pip requirements.

Two of them: the repository's own (the function's: [packages] ship in the image, [dev-packages] are its tests'
tools) and the kit's, `tools/Pipfile` (KIT_TOOLS: the one environment of the Docker-side sessions and lint).
Every function takes `repo`, the folder that holds the Pipfile and its lock.

Standard library only (used by `noxfile.py` before any environment exists); the output matches
`pipenv requirements --hash`, without needing pipenv installed. A lock whose recorded Pipfile hash no longer
matches the Pipfile beside it is refused (`pipenv lock` was not run after an edit).
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from pathlib import Path
from typing import Any

from lambdakit.core.errors import ConfigError
from lambdakit.core.settings import REPO_ROOT

LOCK_SECTIONS = {"packages": "default", "dev-packages": "develop"}
PYPI_SIMPLE = "https://pypi.org/simple"
KIT_TOOLS = REPO_ROOT / "tools"  # the kit's Pipfile + Pipfile.lock
# What plette (pipenv's Pipfile model) assumes when a Pipfile names no [[source]].
DEFAULT_SOURCES = [{"name": "pypi", "url": PYPI_SIMPLE, "verify_ssl": True}]
# Pipfile tables that are not package categories (plette's PIPFILE_SECTIONS and the names it skips).
NOT_CATEGORIES = frozenset(
    {"source", "packages", "dev-packages", "requires", "scripts", "pipfile", "pipenv", "default", "develop"}
)


def locked_requirements(
    categories: tuple[str, ...], repo: Path = REPO_ROOT, hashes: bool = True
) -> list[str]:
    """Pinned requirement lines (with hashes) of the given Pipfile categories, from Pipfile.lock."""
    _, entries = _locked_entries(categories, repo)
    return [_requirement(entry, hashes) for entry in entries.values()]


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
    for entry in entries.values():
        name = entry["name"]
        index = entry.get("index")
        if index is not None and str(index) not in sources:
            raise ConfigError(
                f"Pipfile.lock binds {name} to index {index!r}, which is not one of its sources "
                f"({', '.join(sources) or 'none'}): add that [[source]] to the Pipfile and run "
                f"`{lock_command(repo)}`."
            )
        url = sources.get(str(index or default))
        url = None if url is None or url.rstrip("/") == PYPI_SIMPLE else url
        groups.setdefault(url, []).append(_requirement(entry, hashes))
    return [(url, lines) for url, lines in groups.items() if lines or url is None]


def lock_command(repo: Path = REPO_ROOT) -> str:
    """The command that locks the Pipfile in `repo`, as typed from the repository's root: only [packages]
    and [dev-packages] are locked (an unlocked category such as [prepare-packages] would pull CUDA torch)."""
    prefix = "PIPENV_PIPFILE=tools/Pipfile " if repo.name == KIT_TOOLS.name else ""
    try:
        tables = set(tomllib.loads((repo / "Pipfile").read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError):
        tables = set()
    categories = ' --categories "packages dev-packages"' if tables - NOT_CATEGORIES else ""
    return f"{prefix}pipenv lock{categories}"


def load_lock(repo: Path = REPO_ROOT) -> dict[str, Any]:
    """`repo`/Pipfile.lock, refused when it is missing or older than the Pipfile beside it."""
    lock_path = repo / "Pipfile.lock"
    if not lock_path.is_file():
        raise ConfigError(
            f"{lock_path} is missing; run `{lock_command(repo)}` to create it from the Pipfile."
        )
    try:
        lock: dict[str, Any] = json.loads(lock_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{lock_path} is not JSON ({exc}); run `{lock_command(repo)}`.") from None
    pipfile = repo / "Pipfile"
    if pipfile.is_file():
        recorded = lock.get("_meta", {}).get("hash", {}).get("sha256")
        if recorded not in pipfile_hashes(pipfile):
            raise ConfigError(
                f"{pipfile} no longer matches {lock_path.name} (edited since the last lock); "
                f"run `{lock_command(repo)}`."
            )
    return lock


def pipfile_hashes(pipfile: Path) -> set[str]:
    """The hash `pipenv lock` records in `_meta.hash.sha256` for this Pipfile, as pipenv computes it.

    plette's `Pipfile.get_hash()`: sha256 of the compact, key-sorted JSON of the sources, `[requires]` and
    every package category (`default`, `develop`, the others by name). pipenv 2025+ writes it with package
    names in PEP 503 form (`ruamel.yaml` -> `ruamel-yaml`); older releases wrote them as spelled. Either is
    accepted, so a lock from either pipenv passes.
    """
    try:
        document = tomllib.loads(pipfile.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{pipfile} is not valid TOML ({exc}); fix it and retry.") from None
    return {_pipfile_hash(document, canonical) for canonical in (True, False)}


def _pipfile_hash(document: dict[str, Any], canonical: bool) -> str:
    def names(section: dict[str, Any]) -> dict[str, Any]:
        return {canonical_name(k): v for k, v in section.items()} if canonical else dict(section)

    data: dict[str, Any] = {
        "_meta": {
            "sources": document.get("source", DEFAULT_SOURCES),
            "requires": document.get("requires", {}),
        },
        "default": names(document.get("packages", {})),
        "develop": names(document.get("dev-packages", {})),
    }
    for category, values in document.items():
        if category not in NOT_CATEGORIES and isinstance(values, dict):
            data[category] = names(values)
    content = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def canonical_name(name: str) -> str:
    """PEP 503: `Ruamel.YAML`, `ruamel_yaml` and `ruamel-yaml` are one package."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _locked_entries(
    categories: tuple[str, ...], repo: Path
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    lock = load_lock(repo)
    entries: dict[str, dict[str, Any]] = {}
    for category in categories:
        section = LOCK_SECTIONS.get(category, category)
        if section not in lock:
            raise ConfigError(
                f"{repo / 'Pipfile.lock'} has no [{category}] section; run `{lock_command(repo)}` after "
                "editing the Pipfile."
            )
        for name, entry in sorted(lock[section].items()):
            _check_pinned(name, entry, repo)
            # one line per package whatever its spelling: pip refuses a package named twice with hashes
            entries[canonical_name(name)] = {**entry, "name": name}
    return lock, entries


def _check_pinned(name: str, entry: dict[str, Any], repo: Path) -> None:
    """pip's hash-checking mode installs only `==` pins: say so here, not in pip's words."""
    version = str(entry.get("version", ""))
    if not version.startswith("=="):
        raise ConfigError(
            f"{repo / 'Pipfile.lock'}: {name} is not pinned with == ({version or 'no version'}; "
            f"a path, URL or VCS entry?): give it a released version in the Pipfile and run "
            f"`{lock_command(repo)}`."
        )


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


def _requirement(entry: dict[str, Any], hashes: bool) -> str:
    extras = entry.get("extras")
    line = str(entry["name"]) + (
        f"[{','.join(map(str, extras))}]" if isinstance(extras, list) and extras else ""
    )
    line += str(entry.get("version", ""))
    if entry.get("markers"):
        line += f" ; {entry['markers']}"
    if hashes:
        line += "".join(f" --hash={digest}" for digest in entry.get("hashes", []))
    return line
