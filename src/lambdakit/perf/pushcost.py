"""What a push costs: bytes uploaded to a registry after a code-only and after a dependency-only change.

A private Docker Distribution (`docker-registry`, started by `aws/rehearsal/registry.py` as for the
rehearsal) runs on 127.0.0.1 with its storage in a temp dir. Each image is pushed three times under one
repository — as built, after a one-line code change, after a dependency-only change — and the blob store is
compared before and after each push: the new blobs are exactly what was uploaded (compressed layers, image
config, manifest). The registry's manifest maps each layer of the image to its blob, so the report can say
whether the weights' layer went up again.
"""

from __future__ import annotations

import contextlib
import logging
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambdakit.aws.rehearsal.registry import LocalRegistry, running
from lambdakit.images import hostinstall
from lambdakit.images import push as image_push

LAYER_INSTRUCTIONS = ("COPY", "ADD", "RUN")
CODE_CHANGE_LINE = "# bench: a one-line code change\n"
DEP_CHANGE_FILE = "lambdakit_bench_dependency_change.py"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Push:
    """One push: what went up, and whether the weights' layer was among it."""

    label: str
    bytes_uploaded: int
    blobs_uploaded: int
    layers: int
    layers_uploaded: int
    weights_uploaded: bool | None
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "bytes_uploaded": self.bytes_uploaded,
            "blobs_uploaded": self.blobs_uploaded,
            "layers": self.layers,
            "layers_uploaded": self.layers_uploaded,
            "weights_uploaded": self.weights_uploaded,
            "seconds": round(self.seconds, 2),
        }


@contextlib.contextmanager
def local_registry() -> Iterator[LocalRegistry]:
    """A throw-away registry on a free loopback port; stopped (by pid) and deleted on every exit path."""
    with (
        tempfile.TemporaryDirectory(prefix="lambdakit-bench-registry-") as scratch,
        running(Path(scratch)) as registry,
    ):
        log.info("registry %s (docker-registry, storage in %s)", registry.address, registry.storage)
        yield registry


def push(
    registry: LocalRegistry, image: str, repository: str, tag: str, label: str, weights_layer: int | None
) -> Push:
    """Push IMAGE as REPOSITORY:TAG and count the blobs that were not in the registry before."""
    before = registry.blobs()
    started = time.monotonic()
    image_push.push(image, f"{registry.address}/{repository}", tag)
    seconds = time.monotonic() - started
    new = {digest: size for digest, size in registry.blobs().items() if digest not in before}
    layers = registry.manifest_layers(repository, tag)
    uploaded = [digest in new for digest in layers]
    return Push(
        label=label,
        bytes_uploaded=sum(new.values()),
        blobs_uploaded=len(new),
        layers=len(layers),
        layers_uploaded=sum(uploaded),
        seconds=seconds,
        weights_uploaded=uploaded[weights_layer] if weights_layer is not None else None,
    )


def weights_layer_index(dockerfile: Path, marker: str, base_layers: int) -> int | None:
    """Index in the image's layers of the first COPY/ADD/RUN after the last FROM that matches MARKER."""
    steps = [line.strip() for line in _logical_lines(dockerfile.read_text(encoding="utf-8"))]
    last_from = max((i for i, step in enumerate(steps) if step.upper().startswith("FROM ")), default=-1)
    making = [step for step in steps[last_from + 1 :] if step.split(" ", 1)[0].upper() in LAYER_INSTRUCTIONS]
    for index, step in enumerate(making):
        if re.search(marker, step):
            return base_layers + index
    return None


def _logical_lines(text: str) -> list[str]:
    """Dockerfile instructions with continuation lines joined and comments dropped."""
    joined = re.sub(
        r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    )
    return [line for line in joined.splitlines() if line.strip()]


def code_change(context: Path, code_file: str, target: Path) -> Path:
    """A copy of CONTEXT (big folders hard-linked) where CODE_FILE (relative) has one more line."""
    _link_copy(context, target)
    path = target / code_file
    text = path.read_text(encoding="utf-8")
    path.unlink()  # break the hard link before writing
    path.write_text(text + CODE_CHANGE_LINE, encoding="utf-8")
    hostinstall.compile_bytecode(path.parent)
    hostinstall.normalise_tree(path.parent)
    return target


def dependency_change(context: Path, deps_dir: str, target: Path) -> Path:
    """A copy of CONTEXT whose dependency folder holds one more module: any change there is a new layer."""
    _link_copy(context, target)
    deps = target / deps_dir
    (deps / DEP_CHANGE_FILE).write_text(
        '"""Stands in for a dependency upgrade in `nox -s bench`."""\n', encoding="utf-8"
    )
    (deps / DEP_CHANGE_FILE).chmod(0o644)
    hostinstall.normalise_tree(deps)
    return target


def _link_copy(source: Path, target: Path) -> None:
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, copy_function=_link_or_copy, symlinks=True)


def _link_or_copy(source: str, target: str) -> None:
    try:
        Path(target).hardlink_to(source)
    except OSError:
        shutil.copy2(source, target)
