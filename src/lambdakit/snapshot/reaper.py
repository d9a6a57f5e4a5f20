"""Run one snapshot step so that nothing it starts outlives it, or outlives the kit.

    python -I -S reaper.py PARENT_PID -- COMMAND ...

The sandbox starts every step through this small supervisor (standard library only, run isolated so the
audit hook is not loaded into it). It

* asks the kernel for SIGTERM when the kit's process dies, even by SIGKILL (`PR_SET_PDEATHSIG`);
* becomes a child subreaper (`PR_SET_CHILD_SUBREAPER`): whatever the command leaves behind, even a
  daemon that double-forked into its own session, is re-parented here instead of to init;
* on SIGTERM, SIGINT or SIGHUP ends the command's process group, waits `GRACE_S`, then kills every
  descendant that is left; when the command exits by itself, it ends whatever it left running;
* exits with the command's status (or dies of the same signal), so the caller sees the command's result.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
GRACE_S = 5.0  # the caller waits longer than this before it kills the reaper itself
LEFTOVER_GRACE_S = 1.0
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def prctl(option: int, value: int) -> bool:
    """Linux prctl(2); False where it is not available (the kit then relies on its own cleanup)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(option, value, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent(sig: int = signal.SIGTERM) -> bool:
    """Have the kernel send SIG to this process when its parent dies (by any means, SIGKILL included)."""
    return prctl(PR_SET_PDEATHSIG, int(sig))


def descendants(root: int) -> list[int]:
    """Every live process below ROOT, read from /proc (children before their own children)."""
    children: dict[int, list[int]] = {}
    if not Path("/proc/self/stat").exists():  # no procfs (macOS): the process group is all we can reach
        return []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # the name in parentheses may hold spaces or parentheses: the fields start after the last ')'
            fields = (entry / "stat").read_bytes().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, queue = [], list(children.get(root, []))
    while queue:
        pid = queue.pop(0)
        found.append(pid)
        queue.extend(children.get(pid, []))
    return found


def reap() -> None:
    """Collect every exited child (adopted orphans included) without blocking."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def end_all(sig: int, wait_s: float) -> None:
    """Send SIG to every descendant; after WAIT_S, SIGKILL the ones left, until none is."""
    for pid in descendants(os.getpid()):
        _signal(pid, sig)
    deadline = time.monotonic() + wait_s
    while descendants(os.getpid()):
        reap()
        if time.monotonic() >= deadline:
            for pid in descendants(os.getpid()):
                _signal(pid, signal.SIGKILL)
        time.sleep(0.05)
    reap()


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # gone already, or not ours
        os.kill(pid, sig)


def armed(parent: int) -> bool:
    """Die with the kit, adopt every orphan below; False when the kit is already gone."""
    die_with_parent()
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    return os.getppid() == parent  # checked after arming: the kit may have died just before


COMMAND_GROUP: list[int] = []  # the command's process group, once it runs


def stop(signum: int, frame: FrameType | None) -> None:
    """Asked to stop (or the kit died): end the command's group and every descendant, then exit."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    for group in COMMAND_GROUP:  # the one way to reach it where there is no /proc
        _signal(-group, signal.SIGTERM)
    end_all(signal.SIGTERM, GRACE_S)
    os._exit(128 + signum)


def supervise(argv: list[str]) -> int:
    """Run ARGV in its own process group under this reaper; its wait status."""
    for sig in STOP_SIGNALS:  # before the command exists: a stop request can never find it unwatched
        signal.signal(sig, stop)
    try:
        child = os.posix_spawnp(argv[0], argv, dict(os.environ), setpgroup=0)
    except OSError as exc:
        print(f"cannot run {argv[0]!r}: {exc}", file=sys.stderr)
        return 127 << 8
    COMMAND_GROUP.append(child)
    while True:
        pid, status = os.waitpid(-1, 0)
        if pid == child:
            break
    end_all(signal.SIGTERM, LEFTOVER_GRACE_S)
    return status


def main(args: list[str]) -> None:
    if len(args) < 3 or args[1] != "--":
        sys.exit("usage: reaper.py PARENT_PID -- COMMAND ...")
    if not armed(int(args[0])):
        sys.exit(128 + signal.SIGTERM)
    status = supervise(args[2:])
    if os.WIFSIGNALED(status):  # die the same way, so the caller sees what the command saw
        signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
        os.kill(os.getpid(), os.WTERMSIG(status))
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main(sys.argv[1:])
