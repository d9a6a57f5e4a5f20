"""`python -m lambdakit assets` (`nox -s assets`): the FROM-scratch asset image of the model files.

`build/assets/assets.tar` (written by `nox -s snapshot`: files under their image paths such as
`/cache/...`, mtime 0, owner 0, sorted) becomes the one layer of `<project>-assets:<sha12>` (and `:latest`),
where sha12 is the start of the tarball's sha256. `docker import` stores the tarball as it is, so the same
bytes give the same layer digest on any machine, and the function image copies it in with `COPY --from`:
a code change never rebuilds or re-pushes the weights.

Only a tarball the snapshot described ships: it must be non-empty, match `report.json` beside it (its sha256
and each file's) and its own manifest (`/cache/SHA256SUMS`), and the report must be that of a finished
snapshot whose verify passed (or was skipped).

A snapshot that found nothing to ship records `"assets": "none"` in report.json (and leaves no tarball):
then there is no asset image to build, and `build`, `local`, `rehearse`, `deploy` and `bench` run without one
(`required()` is the one place that decides).
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from lambdakit.console import human_bytes
from lambdakit.core.settings import build_dir, project_name
from lambdakit.images import engine
from lambdakit.snapshot import integrity, outputs

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


def none_recorded(report: Path | None = None) -> bool:
    """Whether the last snapshot found nothing to ship (its report.json says `"assets": "none"`)."""
    report = report or default_tarball().with_name(outputs.REPORT_NAME)
    outputs.settle(report.parent)  # an interrupted commit is finished first: the report then tells the truth
    try:
        document = json.loads(report.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return False
    return isinstance(document, dict) and document.get("assets") == outputs.NO_ASSETS


def required(project: str | None = None) -> str | None:
    """The asset image the function is built on (`<project>-assets:latest`), or None when the snapshot
    recorded nothing to ship: then the build has no asset stage and the deploy no asset repository."""
    return None if none_recorded() else f"{repository_name(project)}:{LATEST}"


def repository_name(project: str | None = None) -> str:
    return f"{project or project_name()}-assets"


def content_tag(sha256: str) -> str:
    return sha256[:12]


def import_changes(sha256: str) -> list[str]:
    """Image config for `docker import`: a label naming the tarball; FROM-scratch images need nothing else."""
    return [f"LABEL {SHA256_LABEL}={sha256} org.opencontainers.image.title=model-assets"]


def build(
    tarball: Path | None = None,
    repository: str | None = None,
    report: Path | None = None,
) -> AssetImage:
    """Import the tarball as `<repository>:<sha12>` unless that tag exists, and point `:latest` at it.

    The tarball must be whole per its manifest, and match REPORT (the snapshot's report.json) when given."""
    tarball = tarball or default_tarball()
    sha256 = integrity.check_tarball(tarball, report)
    repository = repository or repository_name()
    tag = content_tag(sha256)
    ref = f"{repository}:{tag}"
    if engine.image_exists(ref):
        log.info("%s is up to date (same tarball sha256)", ref)
    else:
        log.info("docker import %s as %s (%s)", tarball, ref, human_bytes(tarball.stat().st_size))
        engine.import_tarball(tarball, repository, tag, changes=import_changes(sha256))
    engine.tag_image(ref, repository, LATEST)
    (layer,) = (item.diff_id for item in engine.layers(ref))
    return AssetImage(repository=repository, tag=tag, sha256=sha256, layer=layer)


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m lambdakit assets", description=__doc__.splitlines()[0])
    parser.add_argument("--tarball", type=Path, default=None, help="default: build/assets/assets.tar")
    parser.add_argument("--report", type=Path, default=None, help="default: report.json beside the tarball")
    parser.add_argument("--repository", default=None, help="default: <project>-assets")
    args = parser.parse_args(argv)
    tarball = args.tarball or default_tarball()
    report = args.report or tarball.with_name(outputs.REPORT_NAME)
    if args.tarball is None and none_recorded(report):
        print(
            f"nothing to build: the last snapshot found no file to ship ({report} says "
            f'"assets": "{outputs.NO_ASSETS}"); `nox -s build` builds the function without an asset image'
        )
        return 0
    image = build(tarball, args.repository, report=report)
    print(f"asset image {image.ref} (also :{LATEST}); layer {image.layer}")
    return 0
