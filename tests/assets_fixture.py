"""A minimal asset tarball for the image tests (the snapshot step writes the real one).

It is written by `lambdakit.snapshot.tarball`, as the snapshot writes it: files under their image path
(`cache/...`), every parent directory, sorted names, normalised metadata, and the `SHA256SUMS` manifest.
"""

from __future__ import annotations

from pathlib import Path

from lambdakit.snapshot import tarball


def write_assets_tarball(cache_root: Path, include: Path, target: Path, image_root: str = "/cache") -> Path:
    """Pack the files under INCLUDE (a folder inside CACHE_ROOT) as they sit below IMAGE_ROOT."""
    members = []
    for path in sorted(include.rglob("*")):
        kept = tarball.classify(cache_root, path.relative_to(cache_root).as_posix())
        if isinstance(kept, tarball.Member):
            members.append(kept)
    return tarball.write(members, image_root, target).path
