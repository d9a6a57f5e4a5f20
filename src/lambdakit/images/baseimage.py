"""`python -m lambdakit base-image` (`nox -s base-image`): the stand-in Lambda Python base, built offline.

For air-gapped work and tests, where `public.ecr.aws/lambda/python:3.13` cannot be pulled. The project's
runtime (`[tool.lambdakit] python`) picks the Debian suite whose python3 is that version (3.13: trixie):

1. a Debian rootfs from `debootstrap --variant=minbase`, cached as a tar under `build/base-image/` and
   imported once (`docker import`); for arm64 debootstrap's second stage runs under QEMU (binfmt_misc);
2. awslambdaric installed on the host for the image's platform, the Runtime Interface Emulator taken from
   the aws-sam-cli package, and `/lambda-entrypoint.sh` as AWS documents it for non-AWS bases;
3. `lambda-base/Dockerfile` puts them together and tags `lambdakit/lambda-python:3.13` (`...:3.13-arm64`),
   labelled with the AWS runtime it stands in for: the build reads that runtime's glibc (Amazon Linux 2023:
   2.34), not Debian's newer one, to choose wheels.

Only step 1 needs the Debian mirror and step 2 PyPI; `docker build` itself never uses the network. A rebuild
with the caches in place takes seconds.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import re
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lambdakit import console
from lambdakit.config.target import ARCHITECTURES
from lambdakit.core import proc, runtimes
from lambdakit.core.errors import ConfigError, ToolMissing
from lambdakit.core.settings import REPO_ROOT, build_dir
from lambdakit.images import emulation, engine, hostinstall
from lambdakit.snapshot.tarball import sha256_of

ROOTFS_REPOSITORY = "lambdakit/debian-rootfs"
PACKAGES = ("python3", "ca-certificates")
# The runtime interface client and its dependencies, pinned (installed with --no-deps, like the lock).
RUNTIME_CLIENT = ("awslambdaric==4.2.2", "simplejson==4.3.0", "snapshot-restore-py==1.0.0")
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
# `I: Retrieving gzip 1.13-1`, `I: Unpacking libc6:amd64...`: debootstrap's line per package and stage
DEBOOTSTRAP_STEP = re.compile(
    r"^I: (Retrieving|Extracting|Unpacking|Configuring) ([a-z0-9][a-z0-9+.-]*?)(?::\S+)?(?:\.\.\.| \S+)?$"
)

log = logging.getLogger(__name__)


def import_rootfs(tarball: Path, tag: str, architecture: str) -> None:
    """`docker import`, recorded as ARCHITECTURE's image: what the base built FROM it and every function image
    built on that inherit (and what Lambda checks against Architectures)."""
    if not emulation.is_emulated(architecture):
        engine.import_tarball(tarball, ROOTFS_REPOSITORY, tag)
        return
    engine.import_tarball(tarball, ROOTFS_REPOSITORY, f"{tag}-imported")
    arch = ARCHITECTURES[architecture].docker_platform.split("/")[1]
    engine.as_architecture(f"{ROOTFS_REPOSITORY}:{tag}-imported", ROOTFS_REPOSITORY, tag, arch)
    engine.remove_image(f"{ROOTFS_REPOSITORY}:{tag}-imported")


def stand_in_tag(python: str, architecture: str = "x86_64") -> str:
    """`lambdakit/lambda-python:3.13`: the stand-in of PYTHON's runtime (the project's `python`)."""
    return runtimes.RUNTIMES[python].stand_in_tag(architecture)


def suite_for(python: str) -> str:
    suite = runtimes.DEBIAN_SUITE.get(python)
    if suite is None:
        raise ConfigError(
            f"No Debian release has Python {python} as python3, so there is no offline stand-in for it; use "
            f"{' or '.join(sorted(runtimes.DEBIAN_SUITE))}, or pull public.ecr.aws/lambda/python:{python}."
        )
    return suite


def debootstrap_argv(
    rootfs: Path, suite: str, mirror: str | None = None, architecture: str = "x86_64"
) -> list[str]:
    argv = [
        "debootstrap",
        "--variant=minbase",
        f"--arch={ARCHITECTURES[architecture].debian_arch}",
        f"--include={','.join(PACKAGES)}",
        suite,
        str(rootfs),
    ]
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


def rootfs_tarball(work: Path, suite: str, architecture: str = "x86_64") -> Path:
    """The cached rootfs tar; debootstrap runs only when the recipe changed or the cache is empty."""
    mirror = os.environ.get(MIRROR_ENV) or None
    argv = debootstrap_argv(Path("ROOTFS"), suite, mirror, architecture)
    recipe = " ".join([*argv, *ROOTFS_EXCLUDES])
    arch = "" if architecture == "x86_64" else f"{architecture}-"
    tarball = work / f"rootfs-{suite}-{arch}{hashlib.sha256(recipe.encode()).hexdigest()[:10]}.tar"
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
    emulation.require(architecture)  # debootstrap's second stage runs the target's binaries
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rootfs-", dir=work) as scratch:
        rootfs = Path(scratch) / "rootfs"
        slow = f" for {architecture} under QEMU: minutes" if emulation.is_emulated(architecture) else ""
        log.info("debootstrap %s (minbase + %s%s); about a minute, once", suite, ", ".join(PACKAGES), slow)
        argv = debootstrap_argv(rootfs, suite, mirror, architecture)
        steps = DebootstrapSteps(suite)
        with console.progress(f"debootstrap {suite}") as bar:
            proc.follow(argv, f"debootstrap {suite}", lambda line: steps.show(line, bar), env, 3600)
        partial = tarball.with_suffix(".partial")
        proc.run(rootfs_tar_argv(rootfs, partial), "packing the rootfs")
        partial.rename(tarball)
    return tarball


@dataclass
class DebootstrapSteps:
    """How far debootstrap is, from its line per package and stage: each later stage works through the
    packages the first one retrieved."""

    suite: str
    done: dict[str, int] = field(default_factory=dict)

    def read(self, line: str) -> tuple[str, int | None, int | None] | None:
        """(what it does now, packages done in its stage, packages in all), None where not known."""
        match = DEBOOTSTRAP_STEP.match(line)
        if match is None:
            info = line.removeprefix("I: ").rstrip(".")
            return (f"debootstrap {self.suite}: {info}", None, None) if info != line else None
        stage, package = match.group(1).lower(), match.group(2)
        self.done[stage] = self.done.get(stage, 0) + 1
        total = None if stage == "retrieving" else max(self.done.get("retrieving", 0), self.done[stage])
        return f"debootstrap {self.suite}: {stage} {package}", self.done[stage], total

    def show(self, line: str, bar: console.Bar) -> None:
        log.debug("%s", line)
        if (step := self.read(line)) is not None:
            note, done, total = step
            bar.update(completed=done, total=total, note=note)


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


def runtime_site(python: str) -> str:
    """Where the runtime client goes: on Debian's python3 sys.path (lambda-base/Dockerfile puts it there)."""
    return f"/usr/local/lib/python{python}/dist-packages"


def stage_context(context: Path, architecture: str, work: Path, interpreter: hostinstall.Interpreter) -> None:
    """The context of lambda-base/Dockerfile: runtime client, emulator and entry script, modes set here."""
    context.mkdir(parents=True, exist_ok=True)
    hostinstall.install(
        context / "runtime",
        RUNTIME_CLIENT,
        work=work,
        platforms=hostinstall.manylinux_platforms(architecture),
        interpreter=interpreter,
        hashes=False,
        image_path=runtime_site(interpreter.version),
    )
    rie = context / "aws-lambda-rie"
    shutil.copyfile(rie_binary(architecture, work), rie)
    shutil.copyfile(BASE_DIR / "lambda-entrypoint.sh", context / "lambda-entrypoint.sh")
    shutil.copyfile(BASE_DIR / "Dockerfile", context / "Dockerfile")
    for path in (rie, context / "lambda-entrypoint.sh"):
        path.chmod(0o755)  # the classic builder keeps host modes (no COPY --chmod)


def build(
    python: str,
    architecture: str = "x86_64",
    tag: str | None = None,
    rebuild: bool = False,
) -> str:
    """Build (or reuse, by tag) the stand-in base of PYTHON's runtime (`[tool.lambdakit] python`, or the
    torch baseline's own); return its tag."""
    runtime = runtimes.RUNTIMES[python]
    tag = tag or runtime.stand_in_tag(architecture)
    if not rebuild and engine.image_exists(tag):
        found = engine.require_image(tag, "build it with `nox -s base-image`").labels or {}
        if found.get(runtimes.RUNTIME_LABEL) == runtime.identifier:
            log.info("%s is already built (--rebuild to build it again)", tag)
            return tag
        # an older kit's stand-in carries no runtime label: what it stands in for is unknown, so rebuild it
        log.info("%s does not say which Lambda runtime it stands in for: building it again", tag)
    suite = suite_for(runtime.python)
    work = build_dir() / "base-image"
    tarball = rootfs_tarball(work, suite, architecture)
    rootfs_tag = f"{suite}-{'' if architecture == 'x86_64' else architecture + '-'}{sha256_of(tarball)[:12]}"
    rootfs_image = f"{ROOTFS_REPOSITORY}:{rootfs_tag}"
    if not engine.image_exists(rootfs_image):
        log.info("docker import %s as %s", tarball.name, rootfs_image)
        import_rootfs(tarball, rootfs_tag, architecture)
    context = work / f"context-{runtime.python}-{architecture}"
    interpreter = hostinstall.Interpreter(runtime.python, rootfs_image)
    stage_context(context, architecture, work / architecture, interpreter)
    log.info("docker build %s (FROM %s)", tag, rootfs_image)
    engine.build(
        context,
        tag,
        buildargs={"ROOTFS": rootfs_image, "PYTHON_VERSION": runtime.python, "RUNTIME": runtime.identifier},
    )
    return tag
