"""Run the snapshot's COMMAND in a sandbox, step by step, and stream its output.

Recording: a fresh empty HOME, an empty cache root with the ENV block pointing into it, a private
TMPDIR, every other known cache variable and offline switch cleared, and the audit hook loaded.
Every step runs under `reaper`, so nothing it starts outlives it or the kit (even a kit killed by SIGKILL).
Verifying: the same with the shipped files as the cache root, the offline switches on, and, where the
kernel allows (root, or an unprivileged user namespace), a new network namespace (no network at all) and
a mount namespace where `/`, the cache root and HOME are read-only and only the temp dirs stay writable.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from lambdakit.core.errors import SnapshotCommandNotFound
from lambdakit.core.settings import OFFLINE_ENV, kit_env
from lambdakit.snapshot import caches, netaudit, reaper

TAIL_LINES = 25
REAPER = Path(reaper.__file__)
UNSHARE_AS_ROOT = ("unshare", "--net", "--mount", "--propagation", "private")
UNSHARE_AS_USER = ("unshare", "--user", "--map-root-user", "--net", "--mount", "--propagation", "private")


@dataclass(frozen=True)
class Sandbox:
    """The directories one run of the command sees as HOME, cache root and TMPDIR, and its audit log."""

    home: Path
    cache_root: Path
    tmp: Path
    audit_log: Path

    def create(self) -> Sandbox:
        for directory in (self.home, self.cache_root, self.tmp, self.audit_log.parent):
            directory.mkdir(parents=True, exist_ok=True)
        return self


@dataclass(frozen=True)
class Isolation:
    """How a verify run is cut off: the argv prefix, and what it guarantees in words for the report."""

    name: str
    prefix: tuple[str, ...]
    guarantees: tuple[str, ...]


AUDIT_ONLY = Isolation(
    "audit-hook",
    (),
    ("offline switches on", "audit hook fails every look-up and connection of Python code"),
)


@dataclass(frozen=True)
class StepResult:
    argv: tuple[str, ...]
    returncode: int
    seconds: float
    tail: tuple[str, ...]


def command_env(base: Mapping[str, str], sandbox: Sandbox, *, verify: bool) -> dict[str, str]:
    """The caller's environment minus every cache variable and offline switch, plus the sandbox's."""
    drop = {*caches.variables(), *OFFLINE_ENV, netaudit.LOG_ENV, netaudit.MODE_ENV}
    env = {name: value for name, value in base.items() if name not in drop}
    env.update(kit_env(sandbox.cache_root, offline=verify))
    env.update(HOME=str(sandbox.home), TMPDIR=str(sandbox.tmp))
    env.update(netaudit.env(sandbox.audit_log, verify=verify, pythonpath=base.get("PYTHONPATH")))
    return env


def lockdown_script(readonly: Sequence[Path], writable: Sequence[Path], root_readonly: bool = True) -> str:
    """Shell run inside the new mount namespace before `exec "$@"`: what stays writable, what does not.

    Writable places are bound onto themselves first, so making `/` read-only afterwards leaves them be;
    the read-only binds come last because they may lie inside a writable place.
    """
    lines = ["set -e"]
    lines += [f"mount --bind {shlex.quote(str(p))} {shlex.quote(str(p))}" for p in writable]
    if root_readonly:
        lines.append("mount -o remount,bind,ro /")
    for path in readonly:
        quoted = shlex.quote(str(path))
        lines += [f"mount --bind {quoted} {quoted}", f"mount -o remount,bind,ro {quoted}"]
    lines.append('exec "$@"')
    return "\n".join(lines)


def isolation_argv(isolation: Isolation, script: str) -> list[str]:
    if not isolation.prefix:
        return []
    return [*isolation.prefix, "--", "sh", "-c", script, "lambdakit-verify"]


def choose_isolation(readonly: Sequence[Path], writable: Sequence[Path]) -> tuple[Isolation, str]:
    """The strongest isolation this machine allows, probed by running the lockdown with `true`."""
    candidates: list[tuple[str, tuple[str, ...]]] = (
        [("namespaces (root)", UNSHARE_AS_ROOT)] if os.geteuid() == 0 else []
    )
    candidates.append(("namespaces (user)", UNSHARE_AS_USER))
    for root_readonly in (True, False):
        script = lockdown_script(readonly, writable, root_readonly)
        for name, prefix in candidates:
            isolation = Isolation(name, prefix, _guarantees(root_readonly))
            if shutil.which(prefix[0]) and _probe([*isolation_argv(isolation, script), "true"]):
                return isolation, script
    return AUDIT_ONLY, ""


def _guarantees(root_readonly: bool) -> tuple[str, ...]:
    where = "everything but the temp dirs read-only" if root_readonly else "cache root and HOME read-only"
    return ("offline switches on", "no network (new network namespace)", where, *AUDIT_ONLY.guarantees[1:])


def _probe(argv: list[str]) -> bool:
    try:
        return subprocess.run(argv, capture_output=True, timeout=30, check=False).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def resolve_program(argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> str:
    """The program a step runs, or SnapshotCommandNotFound naming what was looked for and where."""
    program = argv[0]
    if "/" in program:
        path = Path(program) if Path(program).is_absolute() else cwd / program
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    elif found := shutil.which(program, path=env.get("PATH", os.defpath)):
        return found
    raise SnapshotCommandNotFound(
        f"command not found: {program!r} (looked in {'the working directory' if '/' in program else '$PATH'})"
        "; "
        f"install it, activate the environment that has it, or give its full path after `--`"
    )


def run_step(
    argv: Sequence[str],
    env: Mapping[str, str],
    cwd: Path,
    log: IO[str],
    on_line: Callable[[str], None] = lambda line: None,
    prefix: Sequence[str] = (),
    redact: Callable[[str], str] = lambda line: line,
) -> StepResult:
    """Run one step, copying its output to `log` and `on_line`; keep its last lines for error messages.
    Every line goes through REDACT first (the caller's credential values become their names)."""
    resolve_program(argv, env, cwd)
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    started = time.monotonic()
    log.write(redact(f"$ {shlex.join(argv)}") + "\n")
    with subprocess.Popen(
        supervised([*prefix, *argv]),
        env=dict(env),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
        start_new_session=True,
    ) as process:
        try:
            assert process.stdout is not None
            for line in process.stdout:
                text = redact(line.rstrip("\n"))
                log.write(text + "\n")
                if text.strip():
                    tail.append(text)
                    on_line(text)
            returncode = process.wait()
        except BaseException:
            _stop(process)
            raise
    log.flush()
    return StepResult(tuple(argv), returncode, time.monotonic() - started, tuple(tail))


def supervised(argv: Sequence[str]) -> list[str]:
    """ARGV under the reaper: it ends everything the step starts when the step ends or the kit dies."""
    return [sys.executable, "-I", "-S", str(REAPER), str(os.getpid()), "--", *argv]


def _stop(process: subprocess.Popen[str]) -> None:
    """Ask the step's reaper to end everything below it (it waits `reaper.GRACE_S`, then kills)."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=reaper.GRACE_S + 5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
