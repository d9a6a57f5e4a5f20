"""The kit's settings: the one cache root and its ENV block, names and defaults every module shares.

Standard library only: `noxfile.py` imports this before any session environment exists.
"""

from __future__ import annotations

import os
from pathlib import Path

from lambdakit.core import libraries

REPO_ROOT = Path(__file__).resolve().parents[3]
IMAGE_CACHE_ROOT = "/cache"
DEV_CACHE_DIRNAME = ".cache"
BUILD_DIRNAME = "build"

BASE_IMAGE_ENV = "LAMBDAKIT_BASE_IMAGE"
REQUIRE_DOCKER_ENV = "LAMBDAKIT_REQUIRE_DOCKER"
VERBOSE_ENV = "LAMBDAKIT_VERBOSE"  # 1: debug records too (the tools' own output behind the progress bars)
# The region local stand-ins are given (sam local, the emulator, the rehearsal); real AWS calls never use it.
LOCAL_REGION = "us-east-1"

# Each ML library's cache variable the ENV block sets, pointed inside the one cache root (path relative to
# that root), and the libraries' own switches that forbid downloads (and telemetry) at run time: both derived
# from the library registry (core/libraries.py). XDG_CACHE_HOME is the root itself.
CACHE_SUBDIRS: dict[str, str] = {"XDG_CACHE_HOME": "", **libraries.env_block()}
OFFLINE_ENV: dict[str, str] = libraries.offline_env()


def cache_env(root: str | Path) -> dict[str, str]:
    """The cache variables for a cache root: `/cache` in images, `<repo>/.cache` on a workstation."""
    root = str(root).rstrip("/") or "/"
    return {name: f"{root}/{sub}" if sub else root for name, sub in CACHE_SUBDIRS.items()}


def kit_env(root: str | Path, offline: bool = False) -> dict[str, str]:
    """The ENV block every environment of the kit uses (dev, devcontainer, images)."""
    env = {"PYTHONDONTWRITEBYTECODE": "1", **cache_env(root)}
    return env | OFFLINE_ENV if offline else env


def make_cache_dirs(root: str | Path) -> None:
    """Every folder of the ENV block, before the function runs: nltk, for one, saves to $NLTK_DATA only
    when that folder exists (else to ~/nltk_data), and a finished image holds them all."""
    for sub in CACHE_SUBDIRS.values():
        (Path(root) / sub).mkdir(parents=True, exist_ok=True)


def dev_cache_root(repo: Path = REPO_ROOT) -> Path:
    """Outside a container the cache root is the repo's git-ignored .cache/, in a container /cache."""
    if os.environ.get("XDG_CACHE_HOME") == IMAGE_CACHE_ROOT:
        return Path(IMAGE_CACHE_ROOT)
    return repo / DEV_CACHE_DIRNAME


def build_dir(repo: Path = REPO_ROOT) -> Path:
    return repo / BUILD_DIRNAME
