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

from lambdakit.core import files
from lambdakit.core.errors import ConfigError
from lambdakit.core.settings import REPO_ROOT

LOCK_SECTIONS = {"packages": "default", "dev-packages": "develop"}
PYPI_SIMPLE = "https://pypi.org/simple"
KIT_TOOLS = REPO_ROOT / "tools"  # the kit's Pipfile + Pipfile.lock
# What plette (pipenv's Pipfile model) assumes when a Pipfile names no [[source]].
# The keys of a lock entry the kit reads, and what each must be (pipenv writes them so).
ENTRY_KEYS = {"version": files.string, "index": files.string, "markers": files.string}
ENTRY_LISTS = ("hashes", "extras")
DEFAULT_SOURCES = [{"name": "pypi", "url": PYPI_SIMPLE, "verify_ssl": True}]
# Pipfile tables that are not package categories (plette's PIPFILE_SECTIONS and the names it skips).
PIPFILE_FIX = "fix it (https://pipenv.pypa.io/en/latest/pipfile.html) and retry."
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
                f"{files.display(repo / 'Pipfile.lock')} binds {name} to index {index!r}, which is not "
                f"one of its sources ({', '.join(sources) or 'none'}): add that [[source]] to the Pipfile "
                f"and run `{lock_command(repo)}`."
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
    """`repo`/Pipfile.lock, its shape checked where the kit reads it, refused when it is missing, broken or
    older than the Pipfile beside it: one line with the command that fixes it."""
    lock_path = repo / "Pipfile.lock"
    name, fix = files.display(lock_path), f"run `{lock_command(repo)}` to rewrite it from the Pipfile."
    try:
        lock = files.table(files.load_json(lock_path, fix), name, "the document", fix)
    except FileNotFoundError:
        raise ConfigError(
            f"{name} is missing; run `{lock_command(repo)}` to create it from the Pipfile."
        ) from None
    meta = files.table(lock.get("_meta", {}), name, "_meta", fix)
    sources = files.expect(
        meta.get("sources", []), lambda v: isinstance(v, list), "a list", name, "_meta.sources", fix
    )
    for number, source in enumerate(sources):
        key = f"_meta.sources[{number}]"
        source = files.table(source, name, key, fix)
        for field in ("name", "url"):
            files.string(source.get(field, ""), name, f"{key}.{field}", fix)
    pipfile = repo / "Pipfile"
    if pipfile.is_file():
        digest = files.table(meta.get("hash", {}), name, "_meta.hash", fix).get("sha256")
        if digest not in pipfile_hashes(pipfile):
            raise ConfigError(
                f"{files.display(pipfile)} no longer matches {lock_path.name} (edited since the last lock); "
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
    document = files.load_toml(pipfile, PIPFILE_FIX)
    return {_pipfile_hash(document, canonical) for canonical in (True, False)}


def pipfile_hash(pipfile: Path) -> str:
    """The hash today's `pipenv lock` records for this Pipfile (package names in PEP 503 form)."""
    return _pipfile_hash(files.load_toml(pipfile, PIPFILE_FIX), canonical=True)


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
    name = files.display(repo / "Pipfile.lock")
    fix = f"run `{lock_command(repo)}` after editing the Pipfile."
    entries: dict[str, dict[str, Any]] = {}
    for category in categories:
        section = LOCK_SECTIONS.get(category, category)
        if section not in lock:
            raise ConfigError(f"{name} has no {section!r} section (the Pipfile's [{category}]); {fix}")
        packages = files.table(lock[section], name, section, fix)
        for package, entry in sorted(packages.items()):
            entry = _entry(entry, name, f"{section}.{package}", fix)
            _check_pinned(package, entry, repo)
            # one line per package whatever its spelling: pip refuses a package named twice with hashes
            entries[canonical_name(package)] = {**entry, "name": package}
    return lock, entries


def _entry(entry: Any, name: str, key: str, fix: str) -> dict[str, Any]:
    entry = files.table(entry, name, key, fix)
    for field, check in ENTRY_KEYS.items():
        if field in entry:
            check(entry[field], name, f"{key}.{field}", fix)
    for field in ENTRY_LISTS:
        if field in entry:
            files.strings(entry[field], name, f"{key}.{field}", fix)
    return entry  # type: ignore[no-any-return]


def _check_pinned(name: str, entry: dict[str, Any], repo: Path) -> None:
    """pip's hash-checking mode installs only `==` pins: say so here, not in pip's words."""
    version = str(entry.get("version", ""))
    if not version.startswith("=="):
        raise ConfigError(
            f"{files.display(repo / 'Pipfile.lock')}: {name} is not pinned with == "
            f"({version or 'no version'}; a path, URL or VCS entry?): give it a released version in the "
            f"Pipfile and run `{lock_command(repo)}`."
        )


def locked_constraints(categories: tuple[str, ...], repo: Path = REPO_ROOT) -> list[str]:
    """The same pins as constraints for pip `-c` (which refuses extras and hashes)."""
    return [_strip_extras(line) for line in locked_requirements(categories, repo, hashes=False)]


def _strip_extras(line: str) -> str:
    name, bracket, rest = line.partition("[")
    return name + rest.partition("]")[2] if bracket else line


def pipfile_requirements(category: str, repo: Path = REPO_ROOT, missing_ok: bool = False) -> list[str]:
    """Requirement specifiers of an unlocked Pipfile category (e.g. `prepare-packages`, pinned with ==)."""
    path = repo / "Pipfile"
    name = files.display(path)
    try:
        document = files.load_toml(path, PIPFILE_FIX)
    except FileNotFoundError:
        raise ConfigError(f"{name} is missing; it lists the function's packages: restore it.") from None
    if category not in document:
        if missing_ok:
            return []
        raise ConfigError(f"{name} has no [{category}] section.")
    packages = files.table(document[category], name, f"[{category}]", PIPFILE_FIX)
    return [
        _specifier(package, spec, name, f"[{category}] {package}", PIPFILE_FIX)
        for package, spec in packages.items()
    ]


def _specifier(package: str, spec: Any, name: str, key: str, fix: str) -> str:
    """`torch = "==2.5.1"`, `onnx = "*"` or `torch = {version = "==2.5.1", extras = [...]}`, for pip."""
    if isinstance(spec, dict):
        version = files.string(spec.get("version", "*"), name, f"{key}.version", fix)
        extras = files.strings(spec.get("extras", []), name, f"{key}.extras", fix)
        package += f"[{','.join(extras)}]" if extras else ""
    else:
        version = files.expect(
            spec, lambda v: isinstance(v, str), 'a version string such as "==2.5.1" or "*"', name, key, fix
        )
    return f"{package}{version if version != '*' else ''}"


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
