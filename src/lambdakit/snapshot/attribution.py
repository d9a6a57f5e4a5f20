"""Who wrote each file: the library on the writing stack, the function's own code, or the path's library
(`attribute`); a folder renamed into place passes its writer to its files, and files unpacked beside a
download belong to the library that wrote it."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath

from lambdakit.core.settings import REPO_ROOT
from lambdakit.snapshot import caches
from lambdakit.snapshot.caches import Root
from lambdakit.snapshot.records import FileRecord


def with_folder_writes(writers: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """A folder renamed into place (an export written in a scratch folder, then moved atomically) was
    written whole by that stack: its files inherit it, unless a write of their own says otherwise."""
    expanded = dict(writers)
    for path, stack in writers.items():
        folder = Path(path)
        if folder.is_dir() and not folder.is_symlink():
            for file in folder.rglob("*"):
                if file.is_file():
                    expanded.setdefault(str(file), stack)
    return expanded


def adopt_by_neighbour(records: Sequence[FileRecord]) -> list[FileRecord]:
    """Files unpacked beside a download (a zip's members, written through directory handles the audit
    cannot place) belong to the library that wrote the download: the nearest directory above decides."""
    owners: dict[tuple[str, str], FileRecord] = {}
    for record in records:
        if record.attributed_by == "writer":
            for parent in _parents(record.path):
                owners.setdefault((record.root, parent), record)
    adopted = []
    for record in records:
        owner = next(
            (owners[(record.root, p)] for p in _parents(record.path) if (record.root, p) in owners), None
        )
        if record.library == caches.UNKNOWN and owner is not None:
            record = replace(record, library=owner.library, env_var=owner.env_var, attributed_by="neighbour")
        adopted.append(record)
    return adopted


def _parents(path: str) -> list[str]:
    """Ancestors of a path, nearest first, up to (not including) its root."""
    parts = PurePosixPath(path.lstrip("/")).parts[:-1]
    return ["/".join(parts[:i]) for i in range(len(parts), 0, -1)]


def project_modules(source: Path = REPO_ROOT / "src") -> frozenset[str]:
    """The function's own top-level packages and modules (src/ but the kit): a write from them is its own."""
    if not source.is_dir():
        return frozenset()
    names = {p.name for p in source.iterdir() if (p / "__init__.py").is_file()}
    names |= {p.stem for p in source.glob("*.py")}
    return frozenset(names - {"lambdakit"})


def attribute(
    root: Root, path: str, stack: Sequence[str] | None, own: Collection[str] | None = None
) -> tuple[caches.Attribution, str | None]:
    """Who is responsible for a file: the library whose pattern claims its path, when that library is on
    the writing stack; else the innermost library that wrote it (a known one: its advice covers a folder
    passed by the caller); else the function's own code, when the writing frame is its; else the path's
    library; else the writing module, named even when the table has no row for it."""
    who = caches.attribute(root, path)
    if not stack:
        return who, "path" if who.known else None
    on_stack = {cache.library if (cache := caches.by_module(m)) else m for m in stack}
    if who.known and who.library in on_stack:
        return who, "path"
    writer = caches.library_of_stack(stack)[0]
    cache = caches.by_library(writer)
    if cache is not None:
        return caches.Attribution(cache.library, cache.env_var, cache), "writer"
    if writer in (project_modules() if own is None else own):
        return caches.Attribution(caches.own_code(writer), None, None), "writer"
    if who.known:
        return who, "path"
    if writer not in {caches.UNKNOWN, caches.THE_COMMAND}:
        return caches.Attribution(writer, None, None), "writer"
    return who, None


def writer_of(stack: Sequence[str] | None) -> str | None:
    """The library (or module) innermost on the stack that wrote a file; None when no write was seen."""
    return caches.library_of_stack(stack)[0] if stack else None
