"""Read Pipfile/Pipfile.lock, the single source of dependencies, into pip requirements.

Standard library only (used by `noxfile.py` before any environment exists); the output matches
`pipenv requirements --hash`, without needing pipenv installed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lambdakit.core import files
from lambdakit.core.errors import ConfigError
from lambdakit.core.settings import REPO_ROOT

LOCK_SECTIONS = {"packages": "default", "dev-packages": "develop"}
PYPI_SIMPLE = "https://pypi.org/simple"
LOCK_NAME = "Pipfile.lock"
# The keys of a lock entry the kit reads, and what each must be (pipenv writes them so).
ENTRY_KEYS = {"version": files.string, "index": files.string, "markers": files.string}
ENTRY_LISTS = ("hashes", "extras")


def lock_fix(lock_file: Path) -> str:
    """The command that rewrites LOCK_FILE from the Pipfile beside it."""
    pipfile = lock_file.with_name("Pipfile")
    if lock_file.parent.resolve() == Path.cwd().resolve():
        return "run `pipenv lock` to rewrite it from the Pipfile."
    return f"run `PIPENV_PIPFILE={files.display(pipfile)} pipenv lock` to rewrite it from its Pipfile."


def locked_requirements(
    categories: tuple[str, ...], repo: Path = REPO_ROOT, hashes: bool = True, lock_file: Path | None = None
) -> list[str]:
    """Pinned requirement lines (with hashes) of the given Pipfile categories, from Pipfile.lock (or
    LOCK_FILE, any lock pipenv wrote)."""
    _, entries = _locked_entries(categories, lock_file or repo / LOCK_NAME)
    return [_requirement(name, entry, hashes) for name, entry in entries.items()]


def locked_groups(
    categories: tuple[str, ...], repo: Path = REPO_ROOT, hashes: bool = True, lock_file: Path | None = None
) -> list[tuple[str | None, list[str]]]:
    """The same lines grouped by the index each package is bound to (`index = "NAME"` in the Pipfile).

    `(None, lines)` first: packages from PyPI, fetched from pip's configured index (so a PIP_INDEX_URL
    mirror of PyPI keeps working); then `(url, lines)` per other index — the Pipfile's first [[source]] when
    it is not PyPI, and each source a package names — fetched from that index alone (a CUDA torch or a
    look-alike package cannot slip in from PyPI).
    """
    path = lock_file or repo / LOCK_NAME
    lock, entries = _locked_entries(categories, path)
    sources = {str(s.get("name")): str(s.get("url")) for s in lock.get("_meta", {}).get("sources", [])}
    default = next(iter(sources), None)
    groups: dict[str | None, list[str]] = {None: []}
    for name, entry in entries.items():
        index = entry.get("index")
        if index is not None and str(index) not in sources:
            raise ConfigError(
                f"{files.display(path)} binds {name} to index {index!r}, which is not one of its sources "
                f"({', '.join(sources) or 'none'}): add that [[source]] to the Pipfile and " + lock_fix(path)
            )
        url = sources.get(str(index or default))
        url = None if url is None or url.rstrip("/") == PYPI_SIMPLE else url
        groups.setdefault(url, []).append(_requirement(name, entry, hashes))
    return [(url, lines) for url, lines in groups.items() if lines or url is None]


def read_lock(lock_file: Path) -> dict[str, Any]:
    """A lock pipenv wrote, its shape checked where the kit reads it: broken, it is one line with the fix."""
    fix = lock_fix(lock_file)
    name = files.display(lock_file)
    try:
        lock = files.table(files.load_json(lock_file, fix), name, "the document", fix)
    except FileNotFoundError:
        raise ConfigError(f"{name} is missing; {fix}") from None
    meta = files.table(lock.get("_meta", {}), name, "_meta", fix)
    sources = files.expect(
        meta.get("sources", []), lambda v: isinstance(v, list), "a list", name, "_meta.sources", fix
    )
    for number, source in enumerate(sources):
        key = f"_meta.sources[{number}]"
        source = files.table(source, name, key, fix)
        for field in ("name", "url"):
            files.string(source.get(field, ""), name, f"{key}.{field}", fix)
    return lock


def _locked_entries(
    categories: tuple[str, ...], lock_file: Path
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    lock = read_lock(lock_file)
    name, fix = files.display(lock_file), lock_fix(lock_file)
    entries: dict[str, dict[str, Any]] = {}
    for category in categories:
        section = LOCK_SECTIONS.get(category, category)
        if section not in lock:
            raise ConfigError(f"{name} has no {section!r} section (the Pipfile's [{category}]); {fix}")
        packages = files.table(lock[section], name, section, fix)
        for package, entry in sorted(packages.items()):
            entries[package] = _entry(entry, name, f"{section}.{package}", fix)
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


def locked_constraints(
    categories: tuple[str, ...], repo: Path = REPO_ROOT, lock_file: Path | None = None
) -> list[str]:
    """The same pins as constraints for pip `-c` (which refuses extras and hashes)."""
    return [
        _strip_extras(line)
        for line in locked_requirements(categories, repo, hashes=False, lock_file=lock_file)
    ]


def _strip_extras(line: str) -> str:
    name, bracket, rest = line.partition("[")
    return name + rest.partition("]")[2] if bracket else line


def pipfile_requirements(
    category: str, repo: Path = REPO_ROOT, missing_ok: bool = False, pipfile: Path | None = None
) -> list[str]:
    """Requirement specifiers of an unlocked Pipfile category (e.g. `prepare-packages`, pinned with ==)."""
    path = pipfile or repo / "Pipfile"
    name = files.display(path)
    fix = "fix it (https://pipenv.pypa.io/en/latest/pipfile.html) and retry."
    try:
        document = files.load_toml(path, fix)
    except FileNotFoundError:
        raise ConfigError(f"{name} is missing; it lists the function's packages: restore it.") from None
    if category not in document:
        if missing_ok:
            return []
        raise ConfigError(f"{name} has no [{category}] section.")
    packages = files.table(document[category], name, f"[{category}]", fix)
    return [
        _specifier(package, spec, name, f"[{category}] {package}", fix) for package, spec in packages.items()
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


def _requirement(name: str, entry: dict[str, Any], hashes: bool) -> str:
    extras = entry.get("extras")
    line = name + (f"[{','.join(extras)}]" if extras else "")
    line += str(entry.get("version", ""))
    if entry.get("markers"):
        line += f" ; {entry['markers']}"
    if hashes:
        line += "".join(f" --hash={digest}" for digest in entry.get("hashes", []))
    return line
