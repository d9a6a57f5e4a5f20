"""What a push costs: bytes uploaded to a registry after a code-only and after a dependency-only change.

A private Docker Distribution (`docker-registry`, the rehearsal's config) runs on 127.0.0.1 with its storage
in a temp dir. Each image is pushed three times under one repository — as built, after a one-line code
change, after a dependency-only change — and the blob store is compared before and after each push: the
new blobs are exactly what was uploaded (compressed layers, image config, manifest). The registry's
manifest maps each layer of the image to its blob, so the report can say whether the weights' layer went
up again.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambdakit.aws.rehearsal import free_port
from lambdakit.aws.rehearsal import registry as registry_mod
from lambdakit.core.errors import RehearsalFailed
from lambdakit.images import hostinstall
from lambdakit.images import push as image_push

MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
START_TIMEOUT_S = 30.0
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


@dataclass
class Registry:
    address: str
    storage: Path
    process: subprocess.Popen[bytes]

    def blobs(self) -> dict[str, int]:
        """Every blob the registry stores: digest → bytes."""
        root = self.storage / "docker" / "registry" / "v2" / "blobs" / "sha256"
        if not root.is_dir():
            return {}
        return {f"sha256:{data.parent.name}": data.stat().st_size for data in root.glob("*/*/data")}

    def manifest_layers(self, repository: str, tag: str) -> list[str]:
        request = urllib.request.Request(
            f"http://{self.address}/v2/{repository}/manifests/{tag}", headers={"Accept": MANIFEST_V2}
        )
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310  (our loopback registry)
            document = json.loads(answer.read())
        return [str(layer["digest"]) for layer in document.get("layers", [])]


@contextlib.contextmanager
def local_registry() -> Iterator[Registry]:
    """A throw-away registry on a free loopback port; stopped (by pid) and deleted on every exit path."""
    with tempfile.TemporaryDirectory(prefix="lambdakit-bench-registry-") as scratch:
        work = Path(scratch)
        port = free_port()
        config = work / "registry.yml"
        config.write_text(registry_mod.config_text(port, work / "storage"), encoding="utf-8")
        with (work / "registry.log").open("ab") as output:
            process = subprocess.Popen(
                registry_mod.registry_argv(config), stdout=output, stderr=subprocess.STDOUT
            )
        registry = Registry(address=f"127.0.0.1:{port}", storage=work / "storage", process=process)
        try:
            _wait_until_up(registry, work / "registry.log")
            log.info("registry %s (docker-registry, storage in %s)", registry.address, work)
            yield registry
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def push(
    registry: Registry, image: str, repository: str, tag: str, label: str, weights_layer: int | None
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


def _wait_until_up(registry: Registry, log_file: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if registry.process.poll() is not None:
            raise RehearsalFailed(
                f"docker-registry exited at start: {log_file.read_text(errors='replace')[-300:]}"
            )
        try:
            with urllib.request.urlopen(f"http://{registry.address}/v2/", timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise RehearsalFailed(
        f"docker-registry did not answer on {registry.address} within {START_TIMEOUT_S:.0f} s."
    )
