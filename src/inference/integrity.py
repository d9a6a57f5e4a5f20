"""Refuse, at init, model files whose bytes are not the ones that were prepared or shipped.

Two manifests can vouch for a file, in this order:

* ``<cache root>/SHA256SUMS``, written by the kit's snapshot into the asset image (``sha256sum`` format:
  ``<64 hex>  <path relative to the cache root>`` per line; ``cd /cache && sha256sum -c SHA256SUMS`` checks it
  by hand). It covers every shipped file, so it also catches a changed ``manifest.json``.
* Otherwise (the dev loop) the ``files`` table of the model's own ``manifest.json``, written by
  ``inference.prepare``.

Each file is hashed while it is read, from the bytes the pipeline then uses, so the check costs one hash and
no second read.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
from pathlib import Path

from inference import paths
from inference.errors import ModelIntegrityError

SUMS_NAME = "SHA256SUMS"
CACHE_ROOT_ENV = "XDG_CACHE_HOME"  # the kit's ENV block sets it to the one cache root (/cache in the image)


class Digests:
    """The sha256 each model file must have, and which manifest says so."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        sums = shipped_sums()
        shipped = _under(sums[1], sums[0], directory) if sums else None
        if sums and shipped is not None:
            self.source = sums[0] / SUMS_NAME
            self.fix = "rebuild the asset and function images (nox -s snapshot, assets, build)"
            self.expected = shipped
        else:
            manifest = paths.require_file("manifest.json", directory)
            data = manifest.read_bytes()
            self.source = manifest
            self.fix = "prepare the model again (nox -s prepare -- --force)"
            # the manifest vouches for itself here: there is nothing above it
            self.expected = {**json.loads(data).get("files", {}), manifest.name: _sha256(data)}

    def read(self, name: str) -> bytes:
        """The bytes of a small model file; `ModelIntegrityError` when they are not the recorded ones."""
        data = paths.require_file(name, self.directory).read_bytes()
        self._verify(name, _sha256(data))
        return data

    def check(self, path: Path) -> None:
        """Hash a large file through a read-only map: no copy in memory, and the pages it faults in are the
        ones ONNX Runtime then maps (the check costs the hash, not a second read)."""
        with path.open("rb") as stream:
            if not path.stat().st_size:
                self._verify(path.name, _sha256(b""))
                return
            with mmap.mmap(stream.fileno(), 0, prot=mmap.PROT_READ) as mapped:
                self._verify(path.name, _sha256(mapped))

    def _verify(self, name: str, actual: str) -> None:
        path = self.directory / name
        expected = self.expected.get(name)
        if expected is None:
            raise ModelIntegrityError(f"{path} is not listed in {self.source}; {self.fix}.")
        if actual != expected:
            raise ModelIntegrityError(
                f"{path} has sha256 {actual[:16]}..., but {self.source} records {expected[:16]}...: "
                f"the file is corrupt or was changed after it was recorded; {self.fix}."
            )


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
