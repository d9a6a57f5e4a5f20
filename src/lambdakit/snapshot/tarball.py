"""A reproducible tar of the cache root under its image path: the same files give the same bytes.

Every member is normalised (mtime 0, uid/gid 0 without names, modes 0755/0644, pax format with no
atime/ctime), every parent directory from the image path down is included, names are sorted
component by component, hard links become regular files, and nothing that is not a regular file, a
directory or a symlink staying inside the root gets in. `docker import` or `ADD assets.tar /` of it
gives the same layer every time.

The tarball carries its own manifest, `<image path>/SHA256SUMS` in `sha256sum -c` format (paths relative to
the image path; a symlink is listed with the digest of the file it reaches), so the function can check the
bytes it loads at init and `read_contents` can check a tarball against it without unpacking.
"""

from __future__ import annotations

import errno
import hashlib
import io
import posixpath
import re
import stat
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import IO

from lambdakit.config.target import LAMBDA
from lambdakit.console import human_bytes
from lambdakit.core.errors import DiskFull, TarballRejected, TarballTooLarge

BLOCK = 512
RECORD = BLOCK * 20
DIR_MODE = 0o755
FILE_MODE = 0o644
EXEC_MODE = 0o755
LINK_MODE = 0o777
DEFAULT_MAX_BYTES = LAMBDA.image_bytes  # a Lambda container image holds at most 10 GB
MANIFEST_NAME = "SHA256SUMS"  # at the top of the image path: /cache/SHA256SUMS
CHUNK = 1 << 20


@dataclass(frozen=True)
class Member:
    """A path of the cache root chosen for the tarball (`/`-separated, relative to the root)."""

    path: str
    source: Path
    kind: str  # "file" or "symlink"
    size: int = 0
    executable: bool = False
    link: str = ""
    sha256: str = ""  # of a file's bytes; computed when packing if the caller has not already


@dataclass(frozen=True)
class Rejected:
    path: str
    reason: str


@dataclass(frozen=True)
class Written:
    path: Path
    sha256: str
    bytes: int
    files: int
    members: int
    manifest: str  # the manifest's member name (`cache/SHA256SUMS`)


def sort_key(path: str) -> tuple[str, ...]:
    """Component-wise order: a directory comes right before its contents, siblings by name."""
    return PurePosixPath(path).parts


def classify(root: Path, relpath: str) -> Member | Rejected:
    """Inspect one path of the root without following a final symlink: keep it, or say why not."""
    source = root / relpath
    info = source.lstat()
    if stat.S_ISLNK(info.st_mode):
        link = safe_link(relpath, str(source.readlink()), root)
        if link is None:
            return Rejected(relpath, "symlink pointing outside the cache root")
        return Member(relpath, source, "symlink", link=link)
    if stat.S_ISREG(info.st_mode):
        return Member(relpath, source, "file", size=info.st_size, executable=bool(info.st_mode & 0o111))
    return Rejected(relpath, "not a regular file, directory or symlink (device, FIFO or socket)")


def safe_link(relpath: str, target: str, root: Path) -> str | None:
    """The link as a relative path that stays inside the root, or None when it would leave it."""
    if target.startswith("/"):
        try:
            inside = Path(target).relative_to(root)
        except ValueError:
            try:
                inside = Path(target).resolve().relative_to(root.resolve())
            except ValueError:
                return None
        target = posixpath.relpath(inside.as_posix(), posixpath.dirname(relpath) or ".")
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(relpath), target))
    if resolved == ".." or resolved.startswith("../") or resolved.startswith("/"):
        return None
    return target


def estimate_bytes(members: Iterable[Member], directories: int, extra: int = 0) -> int:
    """The tarball's size before writing it (pax records for long names aside): checked against the limit."""
    total = directories * BLOCK + 2 * BLOCK + BLOCK + -(-extra // BLOCK) * BLOCK
    for member in members:
        total += BLOCK + -(-member.size // BLOCK) * BLOCK
    return -(-total // RECORD) * RECORD


def directories_for(prefix: str, paths: Iterable[str]) -> list[str]:
    """Every directory from the image path's first component down to the parents of the members."""
    top = PurePosixPath(prefix.strip("/"))
    dirs = {str(PurePosixPath(*top.parts[: i + 1])) for i in range(len(top.parts))}
    for path in paths:
        parent = PurePosixPath(path).parent
        while str(parent) != ".":
            dirs.add(str(top / parent))
            parent = parent.parent
    return sorted(dirs, key=sort_key)


def _tarinfo(name: str, kind: str, size: int = 0, mode: int = FILE_MODE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = {"dir": tarfile.DIRTYPE, "file": tarfile.REGTYPE, "symlink": tarfile.SYMTYPE}[kind]
    info.size = size
    info.mode = mode
    info.linkname = link
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def write(members: Iterable[Member], prefix: str, out: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Written:
    """Write the tarball and its manifest atomically (`out` appears only when complete); refuse one above
    `max_bytes`, and one whose files change between hashing and packing."""
    chosen = [with_digest(m) for m in sorted(members, key=lambda m: sort_key(m.path))]
    if any(m.path == MANIFEST_NAME for m in chosen):
        raise ValueError(f"{MANIFEST_NAME} at the top of the cache root is reserved for the manifest")
    manifest = manifest_text(chosen).encode()
    top = PurePosixPath(prefix.strip("/"))
    dirs = directories_for(prefix, [m.path for m in chosen])
    estimate = estimate_bytes(chosen, len(dirs), len(manifest))
    if estimate > max_bytes:
        raise TarballTooLarge(too_large(estimate, max_bytes))
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    entries: list[tuple[tuple[str, ...], str, Member | bytes | None]] = [(sort_key(d), d, None) for d in dirs]
    entries += [(sort_key(str(top / m.path)), str(top / m.path), m) for m in chosen]
    entries.append((sort_key(str(top / MANIFEST_NAME)), str(top / MANIFEST_NAME), manifest))
    entries.sort(key=lambda entry: entry[0])
    try:
        with (
            partial.open("wb") as stream,
            tarfile.open(fileobj=stream, mode="w", format=tarfile.PAX_FORMAT) as tar,
        ):
            for _, name, member in entries:
                _add(tar, name, member)
        size = partial.stat().st_size
        if size > max_bytes:
            raise TarballTooLarge(too_large(size, max_bytes))
        digest = sha256_of(partial)
        partial.replace(out)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFull(
                f"no space left writing {out}: free some disk space (the tarball needs about "
                f"{human_bytes(estimate)}) or pass --output on a larger disk"
            ) from exc
        raise
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Written(out, digest, size, len(chosen), len(entries), str(top / MANIFEST_NAME))


def with_digest(member: Member) -> Member:
    if member.kind != "file" or member.sha256:
        return member
    return replace(member, sha256=sha256_of(member.source))


def manifest_text(members: Iterable[Member]) -> str:
    """`sha256sum` lines for every file, and every symlink that reaches one, sorted by path."""
    by_path = {m.path: m for m in members}
    lines = []
    for path in sorted(by_path):
        target = _reached_file(by_path, path)
        if target is not None:
            lines.append(sha256sum_line(target.sha256, path))
    return "".join(lines)


def _reached_file(by_path: Mapping[str, Member], path: str) -> Member | None:
    member = by_path.get(path)
    for _ in range(40):  # the kernel's own limit on nested symlinks
        if member is None or member.kind == "file":
            return member
        member = by_path.get(posixpath.normpath(posixpath.join(posixpath.dirname(member.path), member.link)))
    return None


def sha256sum_line(digest: str, path: str) -> str:
    """One line as GNU `sha256sum` writes it (a name with a backslash or newline is escaped)."""
    escaped = path.replace("\\", "\\\\").replace("\n", "\\n")
    return f"{digest}  {path}\n" if escaped == path else f"\\{digest}  {escaped}\n"


def parse_manifest(text: str) -> dict[str, str]:
    """path -> sha256 from `sha256sum` lines (the inverse of `sha256sum_line`)."""
    entries = {}
    for line in text.splitlines():
        digest, _, path = line.removeprefix("\\").partition("  ")
        if line.startswith("\\"):
            path = re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), path)
        entries[path] = digest
    return entries


class _HashingReader:
    """Reads a file for tarfile while hashing it, so the packed bytes are the ones the manifest names."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.digest.update(data)
        return data


def _add(tar: tarfile.TarFile, name: str, member: Member | bytes | None) -> None:
    if member is None:
        tar.addfile(_tarinfo(name, "dir", mode=DIR_MODE))
    elif isinstance(member, bytes):
        tar.addfile(_tarinfo(name, "file", size=len(member)), io.BytesIO(member))
    elif member.kind == "symlink":
        tar.addfile(_tarinfo(name, "symlink", mode=LINK_MODE, link=member.link))
    else:
        mode = EXEC_MODE if member.executable else FILE_MODE
        with member.source.open("rb") as data:
            reader = _HashingReader(data)
            tar.addfile(_tarinfo(name, "file", size=member.size, mode=mode), reader)
        if reader.digest.hexdigest() != member.sha256:
            raise TarballRejected(
                f"{member.source} changed while it was being packed (another process still writes into the "
                "sandbox?): run the snapshot again"
            )


def extract(tarball: Path, destination: Path) -> None:
    """Unpack so that nothing absolute, no link and no `..` may leave `destination`."""
    with tarfile.open(tarball) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(destination, filter="data")
            return
        # Python < 3.11.4 (Debian 12's 3.11.2) has no extraction filters: check every member by hand.
        for member in tar.getmembers():
            _check_member_stays_inside(member, destination)
        tar.extractall(destination)  # noqa: S202 - every member was checked above


def _check_member_stays_inside(member: tarfile.TarInfo, destination: Path) -> None:
    root = destination.resolve()
    target = (root / member.name).resolve()
    if member.name.startswith("/") or not target.is_relative_to(root):
        raise ValueError(f"tar member {member.name!r} would land outside {destination}")
    if member.issym() or member.islnk():
        base = target.parent if member.issym() else root
        link = (base / member.linkname).resolve()
        if member.linkname.startswith("/") or not link.is_relative_to(root):
            raise ValueError(f"tar link {member.name!r} -> {member.linkname!r} leaves {destination}")
    if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
        raise ValueError(f"tar member {member.name!r} is a device or FIFO; refusing to unpack it")


@dataclass(frozen=True)
class Contents:
    """What a tarball holds, read in one pass: its own digest, each file's, its links, its manifest."""

    sha256: str
    files: dict[str, str]  # path below the image path -> sha256
    links: dict[str, str]  # path below the image path -> link target
    manifest: dict[str, str] | None  # the SHA256SUMS it carries, if any


def read_contents(path: Path, prefix: str) -> Contents:
    """Hash every member of the tarball at PATH without unpacking it (one sequential read)."""
    top = prefix.strip("/") + "/"
    files: dict[str, str] = {}
    links: dict[str, str] = {}
    manifest = None
    with path.open("rb") as raw:
        whole = _HashingReader(raw)
        with tarfile.open(fileobj=whole, mode="r|") as tar:  # type: ignore[call-overload]
            for info in tar:
                name = info.name.removeprefix(top) if info.name.startswith(top) else "/" + info.name
                if info.issym():
                    links[name] = info.linkname
                elif info.isfile():
                    data = tar.extractfile(info)
                    digest, text = _digest(data, keep=name == MANIFEST_NAME) if data else ("", b"")
                    files[name] = digest
                    if name == MANIFEST_NAME:
                        manifest = parse_manifest(text.decode("utf-8", "replace"))
        while whole.read(CHUNK):  # the end-of-archive blocks tarfile leaves unread
            pass
    files.pop(MANIFEST_NAME, None)
    return Contents(whole.digest.hexdigest(), files, links, manifest)


def _digest(stream: IO[bytes], keep: bool) -> tuple[str, bytes]:
    digest, kept = hashlib.sha256(), bytearray()
    for block in iter(lambda: stream.read(CHUNK), b""):
        digest.update(block)
        if keep:
            kept += block
    return digest.hexdigest(), bytes(kept)


def mismatches(contents: Contents, expected: Mapping[str, str]) -> list[str]:
    """Every file whose bytes differ from EXPECTED (path -> sha256), is missing, or is not expected."""
    problems = []
    for path, digest in sorted(expected.items()):
        found = contents.files.get(path) or _linked_digest(contents, path)
        if found is None:
            problems.append(f"{path} is missing")
        elif found != digest:
            problems.append(f"{path} has sha256 {found[:12]}…, not {digest[:12]}…")
    problems += [f"{path} is not listed" for path in sorted(set(contents.files) - set(expected))]
    return problems


def _linked_digest(contents: Contents, path: str) -> str | None:
    for _ in range(40):
        if path in contents.files:
            return contents.files[path]
        if path not in contents.links:
            return None
        path = posixpath.normpath(posixpath.join(posixpath.dirname(path), contents.links[path]))
    return None


def sha256_of(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def too_large(size: int, limit: int) -> str:
    return (
        f"the asset tarball would be {human_bytes(size)}, over the {human_bytes(limit)} limit "
        f"(a Lambda container image holds at most 10 GB): ship fewer or smaller models, "
        f"or raise --max-size if your image has room"
    )
