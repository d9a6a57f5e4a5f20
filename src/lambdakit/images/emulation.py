"""Running another architecture's images here: QEMU user emulation through the kernel's binfmt_misc.

An arm64 image on an x86_64 host (or the reverse) runs when `qemu-<machine>` is registered with the F
(fix binary) flag, as Debian's qemu-user-static and Docker Desktop register it: the kernel then runs every
foreign binary, in containers and chroots alike, through the emulator. Times measured that way are QEMU's,
not Lambda's.
"""

from __future__ import annotations

import os
from pathlib import Path

from lambdakit.config.template import ARCHITECTURES
from lambdakit.core.errors import ConfigError

BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")
HOST_MACHINES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}


def host_architecture() -> str:
    machine = os.uname().machine
    return HOST_MACHINES.get(machine, machine)


def is_emulated(architecture: str) -> bool:
    """True when ARCHITECTURE's binaries run here only through QEMU."""
    return architecture != host_architecture()


def registered(architecture: str, binfmt_dir: Path = BINFMT_DIR) -> bool:
    """The kernel runs ARCHITECTURE's binaries through a QEMU emulator, also inside containers (F flag)."""
    entry = binfmt_dir / f"qemu-{ARCHITECTURES[architecture].machine}"
    try:
        lines = entry.read_text(encoding="utf-8").splitlines()
    except OSError:
        return False
    flags = next((line.split(":", 1)[1] for line in lines if line.startswith("flags:")), "")
    return bool(lines) and lines[0] == "enabled" and "F" in flags


def require(architecture: str, binfmt_dir: Path = BINFMT_DIR) -> None:
    """Refuse to run a foreign image when nothing here can: the fix is one root command."""
    if is_emulated(architecture) and not registered(architecture, binfmt_dir):
        machine = ARCHITECTURES[architecture].machine
        raise ConfigError(
            f"{architecture} images need QEMU user emulation here (host: {host_architecture()}), and no "
            f"qemu-{machine} handler is registered in {binfmt_dir}; run `sudo bash .ci/ensure-qemu` "
            "(installs qemu-user-static and registers it), then retry."
        )
