"""Refuse, at init, model files whose bytes are not the ones that were prepared or shipped.

Two manifests can vouch for a file, in this order:

* ``<cache root>/SHA256SUMS``, written by the kit's snapshot into the asset image (``sha256sum`` format:
  ``<64 hex>  <path relative to the cache root>`` per line; ``cd /cache && sha256sum -c SHA256SUMS`` checks it
  by hand). It covers every shipped file, so it also catches a changed ``manifest.json``.
* Otherwise (the dev loop) the ``files`` table of the model's own ``manifest.json``, written by
  ``inference.prepare``.

The large files (the graph and its weights) are checked by the BLAKE3 that the model's ``manifest.json``
records beside their sha256 (its ``blake3`` table), once the manifest itself passed the sha256 check above.
BLAKE3 is a cryptographic hash, as collision-resistant as sha256, and hashes the fp32 weights in about 25 ms
of CPU where sha256 takes about 80 ms at one vCPU (docs/performance.md): the largest part of the model load.
A manifest without the table (an older prepare) gets the sha256 check. Each file is hashed from the bytes the
pipeline then uses, so the check costs one hash and no second read.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from blake3 import blake3

from inference import paths
from inference.errors import ModelIntegrityError

SUMS_NAME = "SHA256SUMS"
MANIFEST_NAME = "manifest.json"
BLAKE3_TABLE = "blake3"  # the manifest's {file name: BLAKE3 hex} table, written by `inference.prepare`
CACHE_ROOT_ENV = "XDG_CACHE_HOME"  # the kit's ENV block sets it to the one cache root (/cache in the image)


class Digests:
    """The digests each model file must have, which manifest says so, and the (checked) model manifest."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        manifest_path = paths.require_file(MANIFEST_NAME, directory)
        data = manifest_path.read_bytes()
        sums = shipped_sums()
        shipped = _under(sums[1], sums[0], directory) if sums else None
        if sums and shipped is not None:
            self.source = sums[0] / SUMS_NAME
            self.fix = "rebuild the asset and function images (nox -s snapshot, assets, build)"
            self.expected = shipped
            self._verify(MANIFEST_NAME, "sha256", _sha256(data))  # before anything in it is trusted
            self.manifest: dict[str, Any] = json.loads(data)
        else:
            self.source = manifest_path
            self.fix = "prepare the model again (nox -s prepare -- --force)"
            self.manifest = json.loads(data)
            # the manifest vouches for itself here: there is nothing above it
            self.expected = {**self.manifest.get("files", {}), MANIFEST_NAME: _sha256(data)}
        self.blake3: dict[str, str] = self.manifest.get(BLAKE3_TABLE, {})

    def read(self, name: str) -> bytes:
        """The bytes of a small model file; `ModelIntegrityError` when they are not the recorded ones."""
        data = paths.require_file(name, self.directory).read_bytes()
        self._verify(name, "sha256", _sha256(data))
        return data

    def check(self, path: Path) -> None:
        """Hash a large file through a read-only map: no copy in memory, and the pages it faults in are the
        ones ONNX Runtime then maps (the check costs the hash, not a second read)."""
        with _mapped(path) as data:
            if path.name in self.blake3:
                self._verify(path.name, BLAKE3_TABLE, blake3(data).hexdigest())
            else:
                self._verify(path.name, "sha256", _sha256(data))

    def _verify(self, name: str, algorithm: str, actual: str) -> None:
        path = self.directory / name
        if algorithm == BLAKE3_TABLE:
            expected, source = self.blake3.get(name), self.directory / MANIFEST_NAME
        else:
            expected, source = self.expected.get(name), self.source
        if expected is None:
            raise ModelIntegrityError(f"{path} is not listed in {source}; {self.fix}.")
        if actual != expected:
            raise ModelIntegrityError(
                f"{path} has {algorithm} {actual[:16]}..., but {source} records {expected[:16]}...: "
                f"the file is corrupt or was changed after it was recorded; {self.fix}."
            )


@contextmanager
def _mapped(path: Path) -> Iterator[bytes | mmap.mmap]:
    with path.open("rb") as stream:
        if not os.fstat(stream.fileno()).st_size:
            yield b""  # an empty file cannot be mapped
            return
        with mmap.mmap(stream.fileno(), 0, prot=mmap.PROT_READ) as mapped:
            yield mapped


def _sha256(data: bytes | mmap.mmap) -> str:
    return hashlib.sha256(data).hexdigest()


def shipped_sums() -> tuple[Path, dict[str, str]] | None:
    """The cache root and the kit's SHA256SUMS table, when the cache root holds one (the image)."""
    root = os.environ.get(CACHE_ROOT_ENV)
    if not root or not (Path(root) / SUMS_NAME).is_file():
        return None
    table = {}
    for line in (Path(root) / SUMS_NAME).read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        if name:
            table[name.removeprefix("*")] = digest.lower()
    return Path(root), table


def _under(table: dict[str, str], root: Path, directory: Path) -> dict[str, str] | None:
    """The entries of `table` (relative to `root`) directly in `directory`; None if it is not under `root`."""
    try:
        prefix = directory.resolve().relative_to(root.resolve()).as_posix() + "/"
    except ValueError:
        return None
    return {
        name.removeprefix(prefix): digest
        for name, digest in table.items()
        if name.startswith(prefix) and "/" not in name.removeprefix(prefix)
    }
