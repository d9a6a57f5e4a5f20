"""`python -m lambdakit assets` (`nox -s assets`): the FROM-scratch asset image of the model files.

`build/assets/assets.tar` (written by `nox -s snapshot`: files under their image paths such as
`/cache/...`, mtime 0, owner 0, sorted) becomes the one layer of `<project>-assets:<sha12>` (and `:latest`),
where sha12 is the start of the tarball's sha256. `docker import` stores the tarball as it is, so the same
bytes give the same layer digest on any machine, and the function image copies it in with `COPY --from`:
a code change never rebuilds or re-pushes the weights.

Only a tarball the snapshot described ships: it must be non-empty, match `report.json` beside it (its sha256
and each file's) and its own manifest (`/cache/SHA256SUMS`), and the report must be that of a finished
snapshot whose verify passed (or was skipped).

The import is nameless until checked: `<sha12>` is tagged only on an image whose one layer is the tarball's
bytes (`docker import` keeps them as they are, so the layer's diff id is the tarball's sha256). An import cut
short (SIGTERM to nox, which the kernel passes on to this process, or an engine restart) leaves at most a
nameless image, never a tag on a partial layer; a tag found on another layer is imported again.

A snapshot that found nothing to ship records `"assets": "none"` in report.json (and leaves no tarball):
then there is no asset image to build, and `build`, `local`, `rehearse`, `deploy` and `bench` run without one
(`none_recorded()` is the one place that decides).
"""

from __future__ import annotations

import json
import logging
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambdakit.console import human_bytes
from lambdakit.core.errors import ImageBuildFailed
from lambdakit.core.settings import build_dir
from lambdakit.images import engine
from lambdakit.snapshot import integrity, outputs, reaper

LATEST = "latest"
SHA256_LABEL = "io.lambdakit.assets.sha256"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AssetImage:
    """The asset image as the function build and deploy refer to it."""

    repository: str
    tag: str
    sha256: str
    layer: str

    @property
    def ref(self) -> str:
        return f"{self.repository}:{self.tag}"


def default_tarball() -> Path:
    return build_dir() / "assets" / outputs.TARBALL_NAME


def last_report(report: Path | None = None) -> dict[str, Any] | None:
    """The last snapshot's report.json (default: beside the default tarball), or None when there is none."""
    report = report or default_tarball().with_name(outputs.REPORT_NAME)
    outputs.settle(report.parent)  # an interrupted commit is finished first: the report then tells the truth
    try:
        document = json.loads(report.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return document if isinstance(document, dict) else None


def none_recorded(report: Path | None = None) -> bool:
    """Whether the last snapshot found nothing to ship (its report.json says `"assets": "none"`)."""
    document = last_report(report)
    return document is not None and document.get("assets") == outputs.NO_ASSETS


def content_tag(sha256: str) -> str:
    return sha256[:12]


def import_changes(sha256: str) -> list[str]:
    """Image config for `docker import`: a label naming the tarball; FROM-scratch images need nothing else."""
    return [f"LABEL {SHA256_LABEL}={sha256} org.opencontainers.image.title=model-assets"]


def build(tarball: Path, repository: str, report: Path | None = None) -> AssetImage:
    """Import the tarball as `<repository>:<sha12>` unless that tag exists, and point `:latest` at it.
    REPOSITORY: the project's (`ProjectConfig.assets_repository`) or a test's own.

    The tarball must be whole per its manifest, and match REPORT (the snapshot's report.json) when given."""
    sha256 = integrity.check_tarball(tarball, report)
    tag = content_tag(sha256)
    ref = f"{repository}:{tag}"
    layer = f"sha256:{sha256}"
    if engine.diff_ids(ref) == [layer]:
        log.info("%s is up to date (same tarball sha256)", ref)
    else:
        log.info("docker import %s as %s (%s)", tarball, ref, human_bytes(tarball.stat().st_size))
        image = engine.import_tarball(tarball, None, None, changes=import_changes(sha256))
        if engine.diff_ids(image) != [layer]:
            engine.remove_image(image)
            raise ImageBuildFailed(
                f"docker import of {tarball} gave another layer than the tarball's bytes (sha256 "
                f"{sha256[:12]}…; the engine's storage or the file changed meanwhile?): "
                "run `nox -s assets` again"
            )
        with engine.replacing(ref):  # a tag left on another layer: its image goes, once nothing uses it
            engine.tag_image(image, repository, tag)
    engine.tag_image(ref, repository, LATEST)
    return AssetImage(repository=repository, tag=tag, sha256=sha256, layer=layer)


def stop_with_parent() -> None:
    """End with the nox process that started this one, however it ends: SIGTERM (or SIGHUP) unwinds as
    Ctrl-C would, and the kernel sends SIGTERM when the parent dies, even by SIGKILL. An import cut short
    this way leaves nothing tagged (see `build`)."""
    reaper.die_with_parent()
    for stop in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop, _interrupted)


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)
