"""`python -m lambdakit base-image` (`nox -s base-image`): the stand-in Lambda Python base, built offline.

For air-gapped work and tests, where `public.ecr.aws/lambda/python:3.11` cannot be pulled:

1. a Debian bookworm rootfs from `debootstrap --variant=minbase` (Python 3.11), cached as a tar under
   `build/base-image/` and imported once (`docker import`);
2. awslambdaric installed on the host for the image's platform, the Runtime Interface Emulator taken from
   the aws-sam-cli package, and `/lambda-entrypoint.sh` as AWS documents it for non-AWS bases;
3. `lambda-base/Dockerfile` puts them together and tags `lambdakit/lambda-python:3.11`.

Only step 1 needs the Debian mirror and step 2 PyPI; `docker build` itself never uses the network. A rebuild
with the caches in place takes seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from lambdakit.config.template import ARCHITECTURES
from lambdakit.core import proc
from lambdakit.core.errors import ConfigError, ToolMissing
from lambdakit.core.settings import BASE_IMAGE_ENV, REPO_ROOT, build_dir
from lambdakit.images import engine, hostinstall
from lambdakit.snapshot.tarball import sha256_of

TAG = "lambdakit/lambda-python:3.11"
ROOTFS_REPOSITORY = "lambdakit/debian-rootfs"
SUITE = "bookworm"
PACKAGES = ("python3", "ca-certificates")
# The runtime interface client and its dependencies, pinned (installed with --no-deps, like the lock).
RUNTIME_CLIENT = ("awslambdaric==4.2.2", "simplejson==4.3.0", "snapshot-restore-py==1.0.0")
RUNTIME_SITE = (
    "/usr/local/lib/python3.11/dist-packages"  # on Debian's python3 sys.path; lambda-base/Dockerfile
)
MIRROR_ENV = "LAMBDAKIT_DEBIAN_MIRROR"  # optional: debootstrap's default mirror otherwise
BASE_DIR = REPO_ROOT / "lambda-base"
# Left out of the rootfs tar: documentation and package indexes nobody reads inside a function.
ROOTFS_EXCLUDES = (
    "./usr/share/doc",
    "./usr/share/man",
    "./usr/share/info",
    "./usr/share/locale",
    "./var/cache/apt",
    "./var/lib/apt/lists",
    "./var/log",
)

Log = Callable[[str], None]


def debootstrap_argv(rootfs: Path, suite: str = SUITE, mirror: str | None = None) -> list[str]:
    argv = ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", suite, str(rootfs)]
    return [*argv, mirror] if mirror else argv


def rootfs_tar_argv(rootfs: Path, tarball: Path) -> list[str]:
    excludes = [f"--exclude={path}" for path in ROOTFS_EXCLUDES]
    return [
        "tar",
        "-C",
        str(rootfs),
        "--sort=name",
        "--numeric-owner",
        "--one-file-system",
        *excludes,
        "-cf",
        str(tarball),
        ".",
    ]


def rootfs_tarball(work: Path, log: Log = print) -> Path:
    """The cached rootfs tar; debootstrap runs only when the recipe changed or the cache is empty."""
    mirror = os.environ.get(MIRROR_ENV) or None
    recipe = " ".join([*debootstrap_argv(Path("ROOTFS"), mirror=mirror), *ROOTFS_EXCLUDES])
    tarball = work / f"rootfs-{SUITE}-{hashlib.sha256(recipe.encode()).hexdigest()[:10]}.tar"
    if tarball.is_file():
        return tarball
    env = sbin_environment()
    if shutil.which("debootstrap", path=env["PATH"]) is None:
        raise ToolMissing(
            "debootstrap is not installed; `apt-get install -y debootstrap` (Debian/Ubuntu), then retry."
        )
    if os.geteuid() != 0:
        raise ConfigError(
            "debootstrap needs root to create device files; run `nox -s base-image` as root once."
        )
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rootfs-", dir=work) as scratch:
        rootfs = Path(scratch) / "rootfs"
        log(f"debootstrap {SUITE} (minbase + {', '.join(PACKAGES)}); about a minute, once")
        proc.run(debootstrap_argv(rootfs, mirror=mirror), f"debootstrap {SUITE}", env=env, timeout=1800)
        partial = tarball.with_suffix(".partial")
        proc.run(rootfs_tar_argv(rootfs, partial), "packing the rootfs")
        partial.rename(tarball)
    return tarball


def sbin_environment() -> dict[str, str]:
    """debootstrap (and the chroot it calls) live in /usr/sbin, which a non-login PATH may lack."""
    env = dict(os.environ)
    env["PATH"] = ":".join([env.get("PATH", ""), "/usr/local/sbin", "/usr/sbin", "/sbin"]).lstrip(":")
    return env


def rie_binary(architecture: str, work: Path) -> Path:
    """The emulator the aws-sam-cli package ships (installed here, else downloaded from PyPI, no deps)."""
    name = ARCHITECTURES[architecture].rie_binary
    spec = importlib.util.find_spec("samcli")
    if spec is not None and spec.submodule_search_locations:
        bundled = Path(next(iter(spec.submodule_search_locations))) / "local" / "rapid" / name
        if bundled.is_file():
            return bundled
    target = work / name
    if target.is_file():
        return target
    with tempfile.TemporaryDirectory(prefix="sam-wheel-", dir=work) as scratch:
        proc.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary=:all:",
                "--dest",
                scratch,
                "aws-sam-cli",
            ],
            "downloading the aws-sam-cli wheel for its emulator",
        )
        wheel = next(Path(scratch).glob("aws_sam_cli-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            target.write_bytes(archive.read(f"samcli/local/rapid/{name}"))
    return target


def stage_context(context: Path, architecture: str, work: Path, log: Log = print) -> None:
    """The context of lambda-base/Dockerfile: runtime client, emulator and entry script, modes set here."""
    context.mkdir(parents=True, exist_ok=True)
    hostinstall.install(
        context / "runtime",
        RUNTIME_CLIENT,
        work=work,
        hashes=False,
        log=log,
        platforms=hostinstall.manylinux_platforms(architecture),
        image_path=RUNTIME_SITE,
    )
    rie = context / "aws-lambda-rie"
    shutil.copyfile(rie_binary(architecture, work), rie)
    shutil.copyfile(BASE_DIR / "lambda-entrypoint.sh", context / "lambda-entrypoint.sh")
    shutil.copyfile(BASE_DIR / "Dockerfile", context / "Dockerfile")
    for path in (rie, context / "lambda-entrypoint.sh"):
        path.chmod(0o755)  # the classic builder keeps host modes (no COPY --chmod)


def build(tag: str = TAG, architecture: str = "x86_64", rebuild: bool = False, log: Log = print) -> str:
    """Build (or reuse, by tag) the stand-in base; return its tag."""
    if architecture != _host_architecture():
        raise ConfigError(
            f"The stand-in base is built for the host's architecture ({_host_architecture()}); "
            f"{architecture} needs the AWS base image (unset {BASE_IMAGE_ENV})."
        )
    if not rebuild and engine.image_exists(tag):
        log(f"{tag} is already built (--rebuild to build it again)")
        return tag
    work = build_dir() / "base-image"
    tarball = rootfs_tarball(work, log)
    rootfs_tag = f"{SUITE}-{sha256_of(tarball)[:12]}"
    rootfs_image = f"{ROOTFS_REPOSITORY}:{rootfs_tag}"
    if not engine.image_exists(rootfs_image):
        log(f"docker import {tarball.name} as {rootfs_image}")
        engine.import_tarball(tarball, ROOTFS_REPOSITORY, rootfs_tag)
    context = work / "context"
    stage_context(context, architecture, work, log)
    log(f"docker build {tag} (FROM {rootfs_image})")
    engine.build(context, tag, buildargs={"ROOTFS": rootfs_image})
    return tag


def _host_architecture() -> str:
    machine = os.uname().machine
    return {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lambdakit base-image", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--tag", default=TAG, help=f"image tag (default: {TAG})")
    parser.add_argument("--rebuild", action="store_true", help="build even when the tag exists")
    args = parser.parse_args(argv)
    tag = build(args.tag, rebuild=args.rebuild)
    print(f"{BASE_IMAGE_ENV}={tag}")
    return 0
