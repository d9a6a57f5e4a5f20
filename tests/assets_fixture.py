"""A minimal reproducible asset tarball for the image tests (the snapshot step writes the real one).

It follows the contract `lambdakit.assets` expects of `build/assets/assets.tar`: files under their image
path (`cache/...`), every parent directory, sorted names, mtime 0, uid/gid 0, modes 755/644, PAX format with
no atime/ctime.
"""

from __future__ import annotations

import tarfile
from pathlib import Path, PurePosixPath


def write_assets_tarball(cache_root: Path, include: Path, target: Path, image_root: str = "/cache") -> Path:
    """Pack the files under INCLUDE (a folder inside CACHE_ROOT) as they sit below IMAGE_ROOT."""
    prefix = PurePosixPath(image_root.strip("/"))
    entries: dict[str, Path | None] = {}
    for parent in reversed(prefix.parents[:-1]):
        entries[str(parent)] = None
    entries[str(prefix)] = None
    for parent in reversed(include.relative_to(cache_root).parents[:-1]):
        entries[str(prefix / parent.as_posix())] = None
    for path in [include, *sorted(include.rglob("*"))]:
        entries[str(prefix / path.relative_to(cache_root).as_posix())] = path
    target.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as archive:
        for name in sorted(entries):
            source = entries[name]
            info = tarfile.TarInfo(name)
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            if source is None or source.is_dir():
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                archive.addfile(info)
            else:
                info.mode, info.size = 0o644, source.stat().st_size
                with source.open("rb") as stream:
                    archive.addfile(info, stream)
    return target
