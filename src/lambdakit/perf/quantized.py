"""The int8 side of `bench --quantize` (the demo's extra): its asset image, and its accuracy against fp32.

The kit does not import the demo: it finds the int8 export as the folder under `$HF_HOME/exports/` whose
`manifest.json` says `"precision": "int8"`, and selects it with the demo's variable INFERENCE_PRECISION
(template.yaml's Environment says fp32; the int8 side sets int8 at run time).

The asset tarball holds the int8 export (`INFERENCE_PRECISION=int8 nox -s prepare` writes it into the cache
root) under its image path, written with `lambdakit.snapshot.tarball` exactly as the snapshot writes the fp32
one: the fp32 snapshot ships nothing but its export's four files. The accuracy is read back from the manifest
inside the built function image, so it describes the weights that were measured.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lambdakit.console import human_bytes
from lambdakit.core.errors import ConfigError
from lambdakit.core.settings import CACHE_SUBDIRS, IMAGE_CACHE_ROOT, build_dir, dev_cache_root
from lambdakit.images import assets, engine
from lambdakit.snapshot import tarball

INT8 = "int8"
PRECISION_ARG = "INFERENCE_PRECISION"  # the demo's environment variable (template.yaml's Environment)
EXPORTS = f"{CACHE_SUBDIRS['HF_HOME']}/exports"  # under the cache root
MANIFEST = "manifest.json"
PREPARE_FIX = f"run `{PRECISION_ARG}={INT8} nox -s prepare` to export it"

log = logging.getLogger(__name__)


def export_dir(cache_root: Path | None = None) -> Path:
    """The prepared int8 export under the cache root, found by its manifest."""
    exports = (cache_root or dev_cache_root()) / EXPORTS
    for manifest in sorted(exports.glob(f"*/{MANIFEST}")):
        if _precision(manifest.read_text(encoding="utf-8")) == INT8:
            return manifest.parent
    raise ConfigError(f"No prepared int8 model under {exports}: {PREPARE_FIX}.")


def _precision(text: str | None) -> object:
    try:
        return json.loads(text or "{}").get("precision")
    except (json.JSONDecodeError, AttributeError):
        return None


def manifest_in_image(export: Path | None = None) -> str:
    return f"{IMAGE_CACHE_ROOT}/{EXPORTS}/{(export or export_dir()).name}/{MANIFEST}"


def members_of(export: Path, cache_root: Path) -> list[tarball.Member]:
    """The export's files as tarball members relative to the cache root."""
    chosen: list[tarball.Member] = []
    for path in sorted(export.iterdir()):
        kept = tarball.classify(cache_root, path.relative_to(cache_root).as_posix())
        if isinstance(kept, tarball.Rejected):
            raise ConfigError(f"{path} cannot ship ({kept.reason}); {PREPARE_FIX} again.")
        chosen.append(kept)
    return chosen


def asset_image(repository: str, cache_root: Path | None = None, out: Path | None = None) -> str:
    """Write the int8 asset tarball and import it as `<repository>:<sha12>` (reused when unchanged)."""
    cache_root = cache_root or dev_cache_root()
    out = out or build_dir() / "bench" / "int8-assets" / "assets.tar"
    written = tarball.write(members_of(export_dir(cache_root), cache_root), IMAGE_CACHE_ROOT, out)
    log.info("int8 asset tarball %s (%s, sha256 %s)", out, human_bytes(written.bytes), written.sha256[:12])
    return assets.build(out, repository=repository).ref


def read_accuracy(image: str, export: Path | None = None) -> dict[str, Any]:
    """The int8 manifest's `int8_vs_fp32` (label agreement, min/mean cosine on prepare's texts), read from
    IMAGE: at EXPORT's place, else wherever the image's SHA256SUMS lists an export manifest."""
    candidates = [manifest_in_image(export)] if export else export_manifests_in_image(image)
    for path in candidates:
        text = engine.read_file(image, path)
        manifest = json.loads(text) if text is not None else {}
        if manifest.get("precision") == INT8 and "int8_vs_fp32" in manifest:
            return dict(manifest["int8_vs_fp32"])
    raise ConfigError(
        f"{image} has no int8 manifest with its accuracy ({', '.join(candidates) or 'no export manifest'}): "
        f"its asset image does not hold a current int8 export; {PREPARE_FIX}, or pass an int8 asset image."
    )


def export_manifests_in_image(image: str) -> list[str]:
    """Every `<exports>/*/manifest.json` the image's SHA256SUMS (the snapshot's manifest) lists."""
    sums = engine.read_file(image, f"{IMAGE_CACHE_ROOT}/{tarball.MANIFEST_NAME}")
    listed = tarball.parse_manifest(sums.decode("utf-8")) if sums else {}
    return [
        f"{IMAGE_CACHE_ROOT}/{name}"
        for name in sorted(listed)
        if name.startswith(f"{EXPORTS}/") and name.endswith(f"/{MANIFEST}")
    ]


def label_agreement(reference: Sequence[str], candidate: Sequence[str]) -> dict[str, Any]:
    """How many texts keep the reference's label; the ones that do not, by position."""
    if len(reference) != len(candidate):
        raise ValueError(f"{len(reference)} reference labels but {len(candidate)} to compare")
    differs = [
        {"index": i, "fp32": a, "int8": b}
        for i, (a, b) in enumerate(zip(reference, candidate, strict=True))
        if a != b
    ]
    texts = len(reference)
    return {
        "texts": texts,
        "same": texts - len(differs),
        "agreement": round((texts - len(differs)) / texts, 4) if texts else None,
        "differs": differs,
    }
