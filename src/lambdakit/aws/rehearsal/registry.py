"""Debian's `docker-registry` (Docker Distribution) on 127.0.0.1 as the rehearsal's ECR registry.

Our own config (the package's default wants port 5000 and htpasswd): plain HTTP on a free loopback port (the
engine treats 127.0.0.0/8 as insecure, so it pushes without TLS), no auth, storage in a temp dir, access log
on. The storage and the log are what the tests read: which blobs a repository holds, and which blob uploads
each push made.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from lambdakit.core.errors import ToolMissing

REGISTRY_BINARY = "docker-registry"
INSTALL_HINT = "apt-get install -y docker-registry (or run .ci/ensure-registry)"
# An upload session starts with POST /v2/<name>/blobs/uploads/ (a mount from another repository is a POST too,
# with ?mount=, and uploads nothing).
UPLOAD_START = re.compile(r'"POST /v2/(?P<name>[^ ]+)/blobs/uploads/(?P<query>\S*) HTTP')


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
