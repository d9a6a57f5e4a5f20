"""Debian's `docker-registry` (Docker Distribution) on 127.0.0.1: the rehearsal's ECR registry, and where the
bench measures what a push uploads. The one place that starts it.

Our own config (the package's default wants port 5000 and htpasswd): plain HTTP on a free loopback port (the
engine treats 127.0.0.0/8 as insecure, so it pushes without TLS), no auth, storage in a work folder, access
log on. The storage and the log are what the tests and the bench read: which blobs a repository holds, which
blob uploads each push made, and how many bytes each blob weighs.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lambdakit.aws.rehearsal import servers
from lambdakit.core.errors import ToolMissing

REGISTRY_BINARY = "docker-registry"
INSTALL_HINT = "apt-get install -y docker-registry (or run .ci/ensure-registry)"
STORAGE_NAME, LOG_NAME, CONFIG_NAME = "registry-storage", "registry.log", "registry.yml"  # in the work folder
MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
# An upload session starts with POST /v2/<name>/blobs/uploads/ (a mount from another repository is a POST too,
# with ?mount=, and uploads nothing).
UPLOAD_START = re.compile(r'"POST /v2/(?P<name>[^ ]+)/blobs/uploads/(?P<query>\S*) HTTP')


@dataclass
class LocalRegistry:
    """A running docker-registry: its address (`127.0.0.1:PORT`), and its storage and log in WORKDIR."""

    address: str
    workdir: Path
    process: subprocess.Popen[bytes]

    @property
    def storage(self) -> Path:
        return self.workdir / STORAGE_NAME

    @property
    def log(self) -> Path:
        return self.workdir / LOG_NAME

    @classmethod
    def start(cls, workdir: Path, port: int | None = None) -> LocalRegistry:
        """Start it on PORT (default: a free one) and wait until it answers; stopped again if it does not."""
        port = port or servers.free_port()
        (workdir / STORAGE_NAME).mkdir(parents=True, exist_ok=True)
        config = workdir / CONFIG_NAME
        config.write_text(config_text(port, workdir / STORAGE_NAME), encoding="utf-8")
        registry = cls(f"127.0.0.1:{port}", workdir, servers.spawn(registry_argv(config), workdir / LOG_NAME))
        try:
            servers.wait_http(
                registry.process, f"http://{registry.address}/v2/", REGISTRY_BINARY, registry.log
            )
        except BaseException:
            registry.stop()
            raise
        return registry

    def stop(self) -> None:
        servers.stop(self.process)

    def blobs(self) -> dict[str, int]:
        """Every blob the registry stores: digest → bytes."""
        root = self.storage / "docker" / "registry" / "v2" / "blobs" / "sha256"
        if not root.is_dir():
            return {}
        return {f"sha256:{data.parent.name}": data.stat().st_size for data in root.glob("*/*/data")}

    def manifest_layers(self, repository: str, tag: str) -> list[str]:
        """The digests of an image's layers, in order, as the registry's manifest lists them."""
        request = urllib.request.Request(
            f"http://{self.address}/v2/{repository}/manifests/{tag}", headers={"Accept": MANIFEST_V2}
        )
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310  (our loopback registry)
            document = json.loads(answer.read())
        return [str(layer["digest"]) for layer in document.get("layers", [])]


@contextlib.contextmanager
def running(workdir: Path) -> Iterator[LocalRegistry]:
    """A registry for the block, stopped (by pid) on every exit path; WORKDIR is the caller's to delete."""
    registry = LocalRegistry.start(workdir)
    try:
        yield registry
    finally:
        registry.stop()


def config_text(port: int, storage: Path) -> str:
    return (
        "version: 0.1\n"
        "log:\n  level: info\n  accesslog:\n    disabled: false\n"
        f"storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )


def registry_argv(config: Path) -> list[str]:
    binary = shutil.which(REGISTRY_BINARY)
    if binary is None:
        raise ToolMissing(f"{REGISTRY_BINARY} is not installed; {INSTALL_HINT}")
    return [binary, "serve", str(config)]


def layer_blobs(storage: Path, repository: str) -> set[str]:
    """Digests of the layers a repository holds (its links, not the shared blob store)."""
    layers = storage / "docker" / "registry" / "v2" / "repositories" / repository / "_layers" / "sha256"
    return {path.name for path in layers.iterdir()} if layers.is_dir() else set()


def upload_count(log_text: str, repository: str) -> int:
    """How many blob uploads (not mounts) the access log shows for a repository."""
    return sum(
        1
        for match in UPLOAD_START.finditer(log_text)
        if match["name"] == repository and "mount=" not in match["query"]
    )
