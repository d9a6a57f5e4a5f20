"""Which asset image a command uses, and publishing one: the engine's side of `assets.lock`.

`resolve(architecture)` is the one decision `build` (and so the faithful run), `rehearse`, `deploy` and
`bench` take:

1. the local asset image (`<project>-assets:latest`, as `nox -s assets` leaves it) when the engine has one,
   at its content tag; when it differs from the lock, a warning says which is used and how to update the lock;
2. else the lock's image for the architecture, pulled BY DIGEST (the engine checks every blob against it)
   with the caller's credentials (ECR: `GetAuthorizationToken`; any other registry: its `docker login`),
   then checked against the lock: its one layer must be the locked tarball (`docker import` keeps the
   tarball's bytes, so the layer's diff id IS the tarball's sha256), its label the same, and its
   `/cache/SHA256SUMS` the locked one. It is then tagged as `nox -s assets` would have tagged it;
3. else None: no asset image (the caller decides what that means).

`publish(...)` pushes the local asset image under its content tag (skipped when the registry has it: tags
are immutable, the same content keeps its digest) and pins it in the lock.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lambdakit.core.errors import ImageMissing
from lambdakit.images import assetlock, assets, engine, push
from lambdakit.images.assetlock import Entry, LockMismatch
from lambdakit.snapshot import outputs

log = logging.getLogger(__name__)
_warned: set[tuple[str, str]] = set()  # one warning per image and lock entry, however many callers ask


def resolve(architecture: str, repository: str, lock_path: Path | None = None) -> str | None:
    """The asset image to build on (a local reference at its content tag in REPOSITORY, the project's
    `ProjectConfig.assets_repository`), or None when there is none."""
    lock = assetlock.read(lock_path)
    entry = lock.get(architecture) if lock else None
    local = local_image(repository)
    if local is not None:
        reference, sha256 = local
        if entry is not None and sha256 and entry.sha256 != sha256:
            _warn_once(reference, entry)
        return reference
    if entry is None:
        return None
    return pull(entry, repository, architecture)


def local_image(repository: str) -> tuple[str, str] | None:
    """(reference at the content tag, tarball sha256) of `REPOSITORY:latest`, or None when absent."""
    latest = f"{repository}:{assets.LATEST}"
    if not engine.image_exists(latest):
        return None
    sha256 = str((engine.require_image(latest, "").labels or {}).get(assets.SHA256_LABEL) or "")
    return (f"{repository}:{assets.content_tag(sha256)}" if sha256 else latest), sha256


def _warn_once(reference: str, entry: Entry) -> None:
    if (reference, entry.digest) in _warned:
        return
    _warned.add((reference, entry.digest))
    log.warning(
        "using the local asset image %s, not the one assets.lock pins (%s, tarball %s): to pin the local "
        "one, run `nox -s assets -- --publish` (or `nox -s deploy`) and commit assets.lock; to build from "
        "the lock instead, `docker rmi %s:%s`",
        reference,
        entry.reference,
        entry.tag,
        reference.rsplit(":", 1)[0],
        assets.LATEST,
    )


def pull(entry: Entry, repository: str, architecture: str) -> str:
    """Pull the locked image by digest, check it against the lock, tag it `REPOSITORY:<tag>` and `:latest`."""
    log.info("no local asset image: pulling the one assets.lock pins (%s)", entry.reference)
    try:
        image = engine.pull_by_digest(entry.reference, registry_auth(entry.registry))
    except ImageMissing as exc:
        raise LockMismatch(
            f"assets.lock ({architecture}) pins {entry.reference}, which cannot be pulled ({exc}); log in "
            f"to {entry.registry}, restore the lock (`git checkout -- assets.lock`), or rebuild the assets "
            "(`nox -s snapshot`, then `nox -s assets -- --publish`)"
        ) from None
    try:
        check(entry.reference, entry, image.attrs)
    except LockMismatch:
        engine.untag(entry.reference)  # a refused image must not stay behind for a later build to find
        raise
    reference = f"{repository}:{entry.tag}"
    engine.tag_image(entry.reference, repository, entry.tag)
    engine.tag_image(entry.reference, repository, assets.LATEST)
    log.info("asset image %s pulled and checked against assets.lock", reference)
    return reference


def check(reference: str, entry: Entry, attrs: Mapping[str, Any]) -> None:
    """The image (ATTRS: its `docker inspect`) must hold the lock's content: its one layer, its label,
    its manifest of files."""
    layers = [str(diff_id) for diff_id in (attrs.get("RootFS") or {}).get("Layers") or []]
    labels = (attrs.get("Config") or {}).get("Labels") or {}
    if layers != [f"sha256:{entry.sha256}"] or labels.get(assets.SHA256_LABEL) != entry.sha256:
        raise LockMismatch(
            f"{reference} is not the asset tarball assets.lock pins (sha256 {entry.sha256[:12]}; the image "
            f"holds {', '.join(d.split(':')[-1][:12] for d in layers) or 'no layer'}): refusing it; restore "
            "the lock from git or re-publish: nox -s assets -- --publish"
        )
    manifest = engine.read_file(reference, assetlock.MANIFEST_PATH)
    if manifest is None or assetlock.manifest_sha256(manifest) != entry.manifest_sha256:
        raise LockMismatch(
            f"{reference}'s {assetlock.MANIFEST_PATH} is not the one assets.lock pins: refusing it; restore "
            "the lock from git or re-publish: nox -s assets -- --publish"
        )


def registry_auth(registry: str) -> dict[str, str] | None:
    """Credentials for pulling from REGISTRY: ECR's token from the caller's AWS credentials, else None (the
    engine's own `docker login` for that registry, if any)."""
    region = assetlock.ecr_region(registry)
    return None if region is None else push.ecr_pull_auth(region)


def pin(
    local: str,
    remote: str,
    digest: str,
    architecture: str,
    report: Mapping[str, Any] | None = None,
    lock_path: Path | None = None,
) -> tuple[Entry, bool]:
    """Record the local asset image LOCAL, pushed as REMOTE (registry/repository) with DIGEST, in the lock
    for ARCHITECTURE. The summary comes from REPORT (the snapshot's, when it wrote this tarball) or the
    previous entry of the same content."""
    sha256 = str((engine.require_image(local, "").labels or {}).get(assets.SHA256_LABEL) or "")
    manifest = engine.read_file(local, assetlock.MANIFEST_PATH)
    if not sha256 or manifest is None:
        raise ImageMissing(
            f"{local} lacks its tarball label or {assetlock.MANIFEST_PATH}; rebuild it: nox -s snapshot, "
            "then nox -s assets"
        )
    lock = assetlock.read(lock_path)
    entry = Entry(
        repository=remote,
        tag=assets.content_tag(sha256),
        digest=digest,
        sha256=sha256,
        manifest_sha256=assetlock.manifest_sha256(manifest),
    )
    entry = assetlock.with_summary(entry, report, lock.get(architecture) if lock else None)
    changed = assetlock.record(architecture, entry, lock_path)
    log.info("assets.lock %s (%s: %s)", "updated" if changed else "unchanged", architecture, entry.reference)
    return entry, changed


def publish(
    image: assets.AssetImage,
    architecture: str,
    registry: str,
    auth: Mapping[str, str] | None = None,
    report: Mapping[str, Any] | None = None,
    lock_path: Path | None = None,
) -> tuple[Entry, bool]:
    """Push IMAGE to REGISTRY (`HOST[/PREFIX]`: the account's ECR, whose AUTH the caller got, or any other
    the engine may push to) under its content tag, then pin it in the lock."""
    remote = f"{registry.rstrip('/')}/{image.repository}"
    pushed = push.push(image.ref, remote, image.tag, auth, skip_existing=True)
    log.info(pushed.summary())
    return pin(image.ref, remote, pushed.digest, architecture, report, lock_path)


def snapshot_report(tarball: Path | None = None) -> dict[str, Any] | None:
    """The snapshot's report.json beside the tarball (its summary goes into the lock), or None."""
    return assets.last_report((tarball or assets.default_tarball()).with_name(outputs.REPORT_NAME))
