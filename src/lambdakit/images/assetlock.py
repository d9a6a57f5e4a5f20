"""`assets.lock`: the asset image pinned by name and digest, so anyone can build from source.

The file sits at the repository root and is committed. Per Lambda architecture it names the asset image in
a registry (repository, content tag, registry digest), the sha256 of the tarball that is its one layer, the
sha256 of that tarball's `/cache/SHA256SUMS`, and the snapshot's summary (files, bytes, libraries):

    {
      "version": 1,
      "assets": {
        "x86_64": {"repository": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/myapp-assets",
                   "tag": "0123456789ab", "digest": "sha256:...", "sha256": "...",
                   "manifest_sha256": "...", "files": 12, "bytes": 90000000, "libraries": ["nltk"]}
      }
    }

Written by the commands that publish the asset image (`nox -s assets -- --publish`, `nox -s deploy`), in
one form only (sorted keys, two-space indent, a final newline) and only when an entry changed: the asset
layer is byte-reproducible and its tag is immutable, so the same content leaves the file byte for byte as it
was (no diff in git). A missing file, or an architecture without an entry, means "no asset image pinned";
`{"version": 1, "assets": {}}` says so explicitly.

`resolve(architecture)` is the one decision every command that needs the asset image takes (build, the
faithful run, rehearse, deploy, bench): the local image when there is one (saying so when it differs from
the lock), else the locked image pulled BY DIGEST and checked against the lock, else None.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from lambdakit.core.errors import KitError
from lambdakit.core.settings import REPO_ROOT

LOCK_NAME = "assets.lock"
VERSION = 1
MANIFEST_PATH = "/cache/SHA256SUMS"  # the tarball's own manifest (snapshot/tarball.py writes it)
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
# ECR's registry host: <account>.dkr.ecr.<region>.amazonaws.com (and .com.cn)
ECR_HOST = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?$")
PUBLISH_HINT = "nox -s assets -- --publish (or nox -s deploy)"

log = logging.getLogger(__name__)


class LockError(KitError):
    """assets.lock cannot be read: not JSON, an unknown version, or an entry with a missing or bad field."""


class LockMismatch(KitError):
    """The asset image the registry serves is not the one assets.lock pins (digest or content)."""


@dataclass(frozen=True)
class Entry:
    """One architecture's pinned asset image."""

    repository: str  # registry host [/prefix] / name, no tag
    tag: str  # the content tag: the tarball sha256's first 12 hex digits
    digest: str  # the registry's manifest digest, sha256:...
    sha256: str  # the tarball's (= the asset layer's diff id)
    manifest_sha256: str  # the sha256 of /cache/SHA256SUMS inside it
    files: int = 0
    bytes: int = 0
    libraries: tuple[str, ...] = field(default_factory=tuple)

    @property
    def reference(self) -> str:
        """What a pull asks for: the digest, never the tag (a tag can be moved in a mutable registry)."""
        return f"{self.repository}@{self.digest}"

    @property
    def registry(self) -> str:
        return self.repository.split("/", 1)[0]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["libraries"] = sorted(self.libraries)
        return data


@dataclass(frozen=True)
class Lock:
    """The whole file: an entry per architecture (none: no asset image pinned)."""

    entries: Mapping[str, Entry] = field(default_factory=dict)

    def get(self, architecture: str) -> Entry | None:
        return self.entries.get(architecture)

    def text(self) -> str:
        document = {
            "version": VERSION,
            "assets": {arch: entry.to_json() for arch, entry in sorted(self.entries.items())},
        }
        return json.dumps(document, indent=2, sort_keys=True) + "\n"


def default_path(repo: Path = REPO_ROOT) -> Path:
    return repo / LOCK_NAME


def read(path: Path | None = None) -> Lock | None:
    """The lock, or None when the repository has none."""
    path = path or default_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return parse(text, path)


def parse(text: str, path: Path | str = LOCK_NAME) -> Lock:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LockError(
            f"{path} is not JSON ({exc}); restore it from git or rewrite it: {PUBLISH_HINT}"
        ) from exc
    if not isinstance(document, dict) or document.get("version") != VERSION:
        found = document.get("version") if isinstance(document, dict) else type(document).__name__
        raise LockError(
            f"{path} has version {found!r}, this kit reads version {VERSION}; update the kit or rewrite "
            f"the lock: {PUBLISH_HINT}"
        )
    assets = document.get("assets")
    assets = {} if assets is None else assets
    if not isinstance(assets, dict):
        raise LockError(f"{path}: `assets` must be an object of architectures; rewrite it: {PUBLISH_HINT}")
    return Lock({str(arch): _entry(arch, value, path) for arch, value in assets.items()})


def _entry(architecture: str, value: Any, path: Path | str) -> Entry:
    where = f"{path}, assets.{architecture}"
    if not isinstance(value, dict):
        raise LockError(f"{where} is not an object; rewrite the lock: {PUBLISH_HINT}")
    strings = ("repository", "tag", "digest", "sha256", "manifest_sha256")
    missing = [key for key in strings if not isinstance(value.get(key), str) or not value[key]]
    if missing:
        raise LockError(f"{where} lacks {', '.join(missing)}; rewrite the lock: {PUBLISH_HINT}")
    if not DIGEST.match(value["digest"]):
        raise LockError(f"{where}.digest {value['digest']!r} is not sha256:<64 hex>; restore it from git")
    for key in ("sha256", "manifest_sha256"):
        if not HEX64.match(value[key]):
            raise LockError(f"{where}.{key} is not 64 hex digits; restore it from git")
    if "@" in value["repository"] or ":" in value["repository"].rsplit("/", 1)[-1]:
        raise LockError(f"{where}.repository {value['repository']!r} must name no tag or digest")
    return Entry(
        repository=value["repository"],
        tag=value["tag"],
        digest=value["digest"],
        sha256=value["sha256"],
        manifest_sha256=value["manifest_sha256"],
        files=int(value.get("files") or 0),
        bytes=int(value.get("bytes") or 0),
        libraries=tuple(sorted(str(name) for name in value.get("libraries") or ())),
    )


def write(lock: Lock, path: Path | None = None) -> bool:
    """Write LOCK unless the file already says exactly that; True when the file changed.

    Atomic (a temporary file in the same folder, then rename): an interrupted write leaves the old lock."""
    path = path or default_path()
    text = lock.text()
    with contextlib.suppress(FileNotFoundError):
        if path.read_text(encoding="utf-8") == text:
            return False
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True


def record(architecture: str, entry: Entry, path: Path | None = None) -> bool:
    """Pin ENTRY for ARCHITECTURE, keeping the other architectures' entries; True when the file changed."""
    current = read(path) or Lock()
    return write(Lock({**current.entries, architecture: entry}), path)


def manifest_sha256(manifest: bytes) -> str:
    return hashlib.sha256(manifest).hexdigest()


def summary_from_report(report: Mapping[str, Any] | None, sha256: str) -> tuple[int, int, tuple[str, ...]]:
    """(files, bytes, libraries) of the snapshot report that wrote the tarball SHA256, else zeros."""
    tarball = (report or {}).get("tarball") or {}
    if tarball.get("sha256") != sha256:
        return 0, 0, ()
    libraries = {f.get("library") for f in (report or {}).get("files", []) if f.get("shipped")}
    names = tuple(sorted(str(name) for name in libraries if name))
    return int(tarball.get("files") or 0), int(tarball.get("bytes") or 0), names


def with_summary(entry: Entry, report: Mapping[str, Any] | None, previous: Entry | None) -> Entry:
    """ENTRY with its summary from REPORT when that report wrote the same tarball, else from the previous
    entry of the same content (a deploy from a pulled image has no report), else as it is."""
    files, size, libraries = summary_from_report(report, entry.sha256)
    if files:
        return replace(entry, files=files, bytes=size, libraries=libraries)
    if previous is not None and previous.sha256 == entry.sha256:
        return replace(entry, files=previous.files, bytes=previous.bytes, libraries=previous.libraries)
    return entry


def ecr_region(registry: str) -> str | None:
    """The region of an ECR registry host, None for any other registry."""
    match = ECR_HOST.match(registry)
    return match["region"] if match else None
