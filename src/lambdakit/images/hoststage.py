"""debootstrap's second stage for another architecture's rootfs, driven by the host's own dpkg.

`debootstrap --foreign` (the first stage) resolves, downloads and unpacks the package set natively. Its second
stage would then run inside the new root: debootstrap's shell and perl (which parse the suite's whole Packages
index several times), dpkg itself and every maintainer script, all under QEMU: 13.6 min for trixie arm64 at
load 5 on 2 cores, 21 min at load 11. Here the host's dpkg (`--root`) takes the same steps in the same order:
it unpacks the packages and keeps the database natively, and only the maintainer scripts and triggers run
chrooted in the new root, under QEMU: the whole stand-in took 4.2-4.6 min from nothing at load 4.5-5, about
half of it ca-certificates' shell loop. Compared with debootstrap's rootfs: the same files, modes and owners,
the same passwd, group, alternatives, CA bundle, ld.so.cache and bytecode; only /etc/shadow's dates, three
packages' Priority in dpkg's status (the .deb's, not the index's) and the empty `available` file differ.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lambdakit.core import proc
from lambdakit.core.errors import ConfigError

# Installed one at a time before the rest, as debootstrap does: their scripts set up what the others' need
# (users and groups, /etc, dpkg's own files, the C library, awk).
CORE = ("base-passwd", "base-files", "dpkg", "libc6", "mawk")
# What debootstrap's second stage sets for every script: no questions, no daemon started in the new root.
SCRIPT_ENV = {
    "DEBIAN_FRONTEND": "noninteractive",
    "DEBCONF_NONINTERACTIVE_SEEN": "true",
    "LC_ALL": "C",
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
}
POLICY_RC = "usr/sbin/policy-rc.d"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FirstStage:
    """What `debootstrap --foreign` left in ROOTFS/debootstrap/: the two package sets and each one's .deb."""

    required: list[str]
    base: list[str]
    debs: dict[str, Path]

    @classmethod
    def read(cls, rootfs: Path) -> FirstStage:
        state = rootfs / "debootstrap"
        try:
            required = (state / "required").read_text().split()
            base = (state / "base").read_text().split()
            lines = (state / "debpaths").read_text().splitlines()
        except OSError as exc:
            raise ConfigError(
                f"{rootfs} holds no debootstrap first stage ({exc.strerror}: {exc.filename}); delete it and "
                "build the base image again."
            ) from exc
        debs = {name: rootfs / path.lstrip("/") for name, _, path in (line.partition(" ") for line in lines)}
        return cls(required, base, debs)

    def paths(self, names: list[str] | tuple[str, ...]) -> list[str]:
        return [str(self.debs[name]) for name in names]


def dpkg_argv(rootfs: Path, *args: str) -> list[str]:
    """The host's dpkg on ROOTFS: its database, its log (not the host's) and packages of its architecture."""
    return ["dpkg", f"--root={rootfs}", f"--log={rootfs}/var/log/dpkg.log", "--force-architecture", *args]


def steps(rootfs: Path, stage: FirstStage) -> list[tuple[str, list[str]]]:
    """debootstrap's `second_stage_install` for minbase, in its order: (what, argv) for each dpkg run."""
    install = ("--force-depends", "--install")
    base_options = ("--force-overwrite", "--force-confold", "--skip-same-version", "--force-depends")
    core = [name for name in CORE if name in stage.debs]
    return [
        *((f"installing {name}", dpkg_argv(rootfs, *install, *stage.paths([name]))) for name in core),
        (
            "unpacking the required packages",
            dpkg_argv(rootfs, "--force-depends", "--unpack", *stage.paths(stage.required)),
        ),
        (
            "configuring the required packages",
            dpkg_argv(rootfs, "--configure", "--pending", "--force-configure-any", "--force-depends"),
        ),
        (
            "unpacking the base packages",
            dpkg_argv(rootfs, *base_options, "--unpack", *stage.paths(stage.base)),
        ),
        (
            "configuring the base packages",
            dpkg_argv(rootfs, "--force-confold", "--skip-same-version", "--configure", "-a"),
        ),
    ]


def prepare(rootfs: Path, architecture: str) -> None:
    """What debootstrap's second stage writes itself, around dpkg."""
    proc_dir = rootfs / "proc"
    if proc_dir.is_symlink():  # the first stage's `proc -> /proc`; the image needs the empty mount point
        proc_dir.unlink()
        proc_dir.mkdir(mode=0o755)
    # as the new root's own dpkg records it (the host's dpkg would not: its own architecture is another)
    (rootfs / "var/lib/dpkg/arch-native").write_text(f"{architecture}\n")
    (rootfs / "var/lib/dpkg/cmethopt").write_text("apt apt\n")
    localtime = rootfs / "etc/localtime"
    if not localtime.is_symlink() and not localtime.exists():
        localtime.symlink_to("/usr/share/zoneinfo/UTC")
    # base-passwd's scripts run before mawk is installed, and call awk
    awk = rootfs / "usr/bin/awk"
    if not awk.is_symlink() and not awk.exists():
        awk.symlink_to("mawk")
    policy = rootfs / POLICY_RC  # "start no daemon" for every script
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)


def finish(rootfs: Path) -> None:
    """Leave no trace of the bootstrap: the first stage's state and debs, the daemon policy."""
    (rootfs / POLICY_RC).unlink(missing_ok=True)
    shutil.rmtree(rootfs / "debootstrap")
    for deb in (rootfs / "var/cache/apt/archives").glob("*.deb"):
        deb.unlink()


def second_stage(
    rootfs: Path,
    architecture: str,
    on_step: Callable[[str, int, int], None],
    env: dict[str, str] | None = None,
) -> None:
    """Install and configure what `debootstrap --foreign` unpacked in ROOTFS (a Debian ARCHITECTURE, e.g.
    `arm64`, whose binaries the kernel runs through QEMU), calling ON_STEP(what, done, total) per step."""
    stage = FirstStage.read(rootfs)
    env = {**(os.environ if env is None else env), **SCRIPT_ENV}
    prepare(rootfs, architecture)
    planned = steps(rootfs, stage)
    # the loader cache first, as debootstrap does: the chrooted scripts' programs find their libraries by it
    on_step("ldconfig", 0, len(planned) + 1)
    proc.run(["chroot", str(rootfs), "/sbin/ldconfig"], "ldconfig in the new root", env)
    for done, (what, argv) in enumerate(planned, start=1):
        if what == "installing mawk":
            (rootfs / "usr/bin/awk").unlink(missing_ok=True)  # mawk's own alternative replaces the stop-gap
        on_step(what, done, len(planned) + 1)
        log.debug("%s", " ".join(argv))
        proc.run(argv, f"dpkg ({what}) in {rootfs}", env, timeout=3600)
    finish(rootfs)
