"""Running another architecture's images here: QEMU user emulation through the kernel's binfmt_misc.

An arm64 image on an x86_64 host (or the reverse) runs when `qemu-<machine>` is registered with the F
(fix binary) flag, as `.ci/ensure-qemu` (Debian 13's QEMU 10) and Docker Desktop register it: the kernel then
runs every foreign binary, in containers and chroots alike, through the emulator. Times measured that way are
QEMU's, not Lambda's: an emulated run gets a longer Timeout and Lambda's arm64 CPU, and is never tuned.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

from lambdakit.config.target import ARCHITECTURES, Target
from lambdakit.core import proc
from lambdakit.core.errors import ConfigError, KitError

BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")
HOST_MACHINES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}
# Debian 12's QEMU 7.2 hangs or crashes in onnxruntime >= 1.27 (aarch64); 10.0 runs it. 8-9 are untested.
MIN_QEMU = (10, 0)
# The CPU QEMU emulates. Lambda's arm64 is Graviton2 (Neoverse N1). QEMU's default `max` CPU offers SVE/SME
# with 2048-bit vectors, and onnxruntime's kernels for them run ten times slower under emulation.
QEMU_CPUS = {"arm64": "neoverse-n1"}
# An emulated invoke of the demo takes seconds where Lambda takes milliseconds: Timeout x this, under QEMU.
TIMEOUT_FACTOR = 10


def host_architecture() -> str:
    machine = os.uname().machine
    return HOST_MACHINES.get(machine, machine)


def is_emulated(architecture: str) -> bool:
    """True when ARCHITECTURE's binaries run here only through QEMU."""
    return architecture != host_architecture()


def _entry(architecture: str, binfmt_dir: Path) -> dict[str, str]:
    """The handler's binfmt_misc entry as {"state": "enabled", "interpreter": ..., "flags": ...}."""
    path = binfmt_dir / f"qemu-{ARCHITECTURES[architecture].machine}"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return {}
    fields = {key.rstrip(":"): value for key, _, value in (line.partition(" ") for line in lines[1:])}
    return {"state": lines[0] if lines else "", **fields}


def registered(architecture: str, binfmt_dir: Path = BINFMT_DIR) -> bool:
    """The kernel runs ARCHITECTURE's binaries through a QEMU emulator, also inside containers (F flag)."""
    entry = _entry(architecture, binfmt_dir)
    return entry.get("state") == "enabled" and "F" in entry.get("flags", "")


def emulator_version(architecture: str, binfmt_dir: Path = BINFMT_DIR) -> tuple[int, int] | None:
    """The registered emulator's QEMU version; None where it is unreadable (Docker Desktop's is in its VM)."""
    # Resolved: a `*-binfmt-P` link's name makes QEMU refuse to run outside binfmt_misc.
    registered_path = _entry(architecture, binfmt_dir).get("interpreter")
    interpreter = Path(registered_path).resolve() if registered_path else None
    if interpreter is None or not interpreter.is_file() or not os.access(interpreter, os.X_OK):
        return None
    try:
        output = proc.run([str(interpreter), "--version"], "the QEMU emulator's version", timeout=30)
    except KitError:
        return None
    found = re.search(r"version (\d+)\.(\d+)", output)
    return (int(found.group(1)), int(found.group(2))) if found else None


def require(architecture: str, binfmt_dir: Path = BINFMT_DIR) -> None:
    """Refuse to run a foreign image when nothing here can: the fix is one root command."""
    if is_emulated(architecture) and not registered(architecture, binfmt_dir):
        machine = ARCHITECTURES[architecture].machine
        raise ConfigError(
            f"{architecture} images need QEMU user emulation here (host: {host_architecture()}), and no "
            f"qemu-{machine} handler is registered in {binfmt_dir}; run `sudo bash .ci/ensure-qemu` "
            "(unpacks QEMU 10 and registers it), then retry."
        )


def require_for_function(architecture: str, binfmt_dir: Path = BINFMT_DIR) -> None:
    """`require`, and refuse an emulator known to hang in the function's runtime (builds run on it)."""
    require(architecture, binfmt_dir)
    version = emulator_version(architecture, binfmt_dir) if is_emulated(architecture) else None
    if version is not None and version < MIN_QEMU:
        raise ConfigError(
            f"The registered qemu-{ARCHITECTURES[architecture].machine} is QEMU {version[0]}.{version[1]}, "
            f"which hangs in onnxruntime; run `sudo bash .ci/ensure-qemu` to register QEMU {MIN_QEMU[0]} "
            "instead, then retry."
        )


def require_native(architecture: str, what: str) -> None:
    """Refuse to time ARCHITECTURE's function here when only QEMU runs it: WHAT would measure the emulator."""
    if is_emulated(architecture):
        raise ConfigError(
            f"template.yaml's Architectures is [{architecture}], which runs here only under QEMU emulation: "
            f"its times are not Lambda's and would {what}. Run it on an {architecture} host, or measure the "
            f"{host_architecture()} build."
        )


def environment(architecture: str) -> dict[str, str]:
    """Variables for an emulated function container: QEMU reads QEMU_CPU from the process it runs."""
    cpu = QEMU_CPUS.get(architecture)
    return {"QEMU_CPU": cpu} if cpu and is_emulated(architecture) else {}


def relaxed(limits: Target) -> Target:
    """LIMITS with the Timeout and init limit an emulated run needs; the same LIMITS when the host runs them
    natively."""
    if not is_emulated(limits.architecture):
        return limits
    rules = dataclasses.replace(limits.rules, init_limit_s=limits.rules.init_limit_s * TIMEOUT_FACTOR)
    return dataclasses.replace(limits, timeout_s=limits.timeout_s * TIMEOUT_FACTOR, rules=rules)
