"""What the sandbox's cache root, HOME and TMPDIR hold after the run (and any other file Python code wrote):
one `FileRecord` each, attributed, with the secrets refused, and the tarball's members."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from lambdakit.snapshot import caches, credentials, netaudit, sandbox, secrets, tarball
from lambdakit.snapshot.attribution import adopt_by_neighbour, attribute, with_folder_writes, writer_of
from lambdakit.snapshot.caches import Root
from lambdakit.snapshot.records import SECRET, SECRET_REFUSED, FileRecord, display_path


def walk(root: Path) -> Iterator[str]:
    """Every non-directory under `root` (symlinks not followed), as sorted `/`-separated relative paths."""
    for directory, dirnames, filenames in os.walk(root):
        dirnames.sort()
        base = Path(directory).relative_to(root)
        names = filenames + [d for d in dirnames if (Path(directory) / d).is_symlink()]
        for name in sorted(names):
            yield (base / name).as_posix()


def scan(
    box: sandbox.Sandbox, events: Sequence[netaudit.Event], env: Mapping[str, str] | None = None
) -> tuple[list[FileRecord], list[tarball.Member]]:
    """Attribute every file of the sandbox (and any other file Python code wrote); pick the members. A
    file holding the value of a credential of ENV (the caller's environment; its HOME's credential files)
    or of a credential file the command left is refused, as one holding a token's shape."""
    writers = with_folder_writes({e.path: tuple(e.stack) for e in events if e.kind == "write"})
    records: list[FileRecord] = []
    members: list[tarball.Member] = []
    places: tuple[tuple[Root, Path], ...] = (("cache", box.cache_root), ("home", box.home), ("tmp", box.tmp))
    secret_files = [
        (base / rel, display_path(root, rel))
        for root, base in places
        for rel in walk(base)
        if caches.is_secret(rel)
    ]
    by_inode = secrets.inodes_of(secret_files)
    values = secrets.needles(credentials.known_values(os.environ if env is None else env, None, secret_files))
    for rel in walk(box.cache_root):
        stack = writers.get(str(box.cache_root / rel))
        record, member = _cache_file(box.cache_root, rel, stack, by_inode, values)
        records.append(record)
        if member is not None:
            members.append(member)
    outside: tuple[tuple[Root, Path], ...] = (("home", box.home), ("tmp", box.tmp))
    for root, base in outside:
        for rel in walk(base):
            records.append(_outside_file(root, base, rel, writers.get(str(base / rel))))
    sandboxed = tuple(str(p) + os.sep for p in (box.home, box.cache_root, box.tmp, box.audit_log.parent))
    for path, stack in sorted(writers.items()):
        if not path.startswith(sandboxed) and Path(path).is_file():
            records.append(_outside_file("other", Path("/"), path.lstrip("/"), stack, absolute=True))
    return adopt_by_neighbour(records), members


def _cache_file(
    root: Path,
    rel: str,
    stack: Sequence[str] | None,
    by_inode: Mapping[secrets.Inode, str],
    values: secrets.Needles = secrets.NO_VALUES,
) -> tuple[FileRecord, tarball.Member | None]:
    who, how = attribute("cache", rel, stack)
    size = _size(root / rel)
    record = FileRecord(
        path=rel,
        root="cache",
        bytes=size,
        library=who.library,
        env_var=who.env_var,
        in_cache_root=True,
        shipped=False,
        writer=writer_of(stack),
        attributed_by=how,
    )
    if why := secrets.by_location(root, rel, by_inode):
        return replace(record, excluded=SECRET, secret=why), None
    if found := secrets.scan(os.fsencode(rel), values):
        # a name is shipped too (the tarball's member, its manifest): the record keeps only what precedes it
        hidden = _hide_component(rel, found.offset)
        return replace(
            record, path=hidden, excluded=SECRET_REFUSED, secret=f"has {found.kind} in its path"
        ), None
    if who.cache is not None and not who.cache.ship:
        return replace(record, excluded=f"not shipped: {who.cache.note}"), None
    if rel == tarball.MANIFEST_NAME:
        return replace(record, excluded=f"{rel} is the tarball's manifest: the kit writes its own"), None
    kept = tarball.classify(root, rel)
    if isinstance(kept, tarball.Rejected):
        return replace(record, excluded=kept.reason), None
    if kept.kind == "symlink" and (found := secrets.scan(os.fsencode(kept.link), values)):
        return replace(
            record, excluded=SECRET_REFUSED, secret=f"is a link whose target has {found.kind}"
        ), None
    if kept.kind == "file":
        digest, found = secrets.digest_and_scan(kept.source, values)
        if found is not None:
            why = f"holds {found.kind} at byte {found.offset}{found.where}"
            return replace(record, excluded=SECRET_REFUSED, secret=why), None
        kept = replace(kept, sha256=digest)
    return replace(record, shipped=True, sha256=kept.sha256 or None), kept


def _hide_component(rel: str, offset: int) -> str:
    """REL with the component holding byte OFFSET and everything after it replaced by a placeholder: the
    report and the one-line refusal must not print the value that a file's name carries."""
    kept = os.fsencode(rel)[:offset].rpartition(b"/")[0]
    return (os.fsdecode(kept) + "/" if kept else "") + "[a name holding a credential]"


def _outside_file(
    root: Root, base: Path, rel: str, stack: Sequence[str] | None, absolute: bool = False
) -> FileRecord:
    path = "/" + rel if absolute else rel
    who, how = attribute(root, path, stack)
    return FileRecord(
        path=path,
        root=root,
        bytes=_size(base / rel),
        library=who.library,
        env_var=who.env_var,
        in_cache_root=False,
        shipped=False,
        excluded=SECRET if caches.is_secret(path) else None,
        writer=writer_of(stack),
        attributed_by=how,
        secret="a known credential location" if caches.is_secret(path) else None,
    )


def _size(path: Path) -> int:
    try:
        return path.lstat().st_size
    except OSError:
        return 0
