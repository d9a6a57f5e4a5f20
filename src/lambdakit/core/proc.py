"""Run an external tool with its argv built elsewhere; failures become one-line `KitError`s."""

from __future__ import annotations

import collections
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from lambdakit.core.errors import CommandFailed, ToolMissing

TAIL_LINES = 5


def find_tool(name: str, fix: str) -> str:
    """The tool next to the running interpreter (a venv's own `sam`), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise ToolMissing(f"`{name}` is not on PATH; {fix}.")
    return found


def run(
    argv: Sequence[str],
    what: str,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    capture: bool = True,
    timeout: float | None = None,
) -> str:
    """Run ARGV; return its stdout (when captured) or raise `CommandFailed` with the last lines of output."""
    try:
        completed = subprocess.run(
            list(argv),
            env=dict(env) if env is not None else None,
            cwd=cwd,
            check=False,
            text=True,
            capture_output=capture,
            timeout=timeout,
        )
    except FileNotFoundError as exc:
        raise ToolMissing(f"{what}: `{argv[0]}` is not installed or not on PATH.") from exc
    except subprocess.TimeoutExpired as exc:
        raise CommandFailed(
            f"{what} did not finish within {timeout:.0f} s: {' '.join(argv[:3])} ..."
        ) from exc
    if completed.returncode != 0:
        output = f"{completed.stdout or ''}\n{completed.stderr or ''}".strip().splitlines()
        raise _failed(what, completed.returncode, output)
    return completed.stdout or ""


def follow(
    argv: Sequence[str],
    what: str,
    on_line: Callable[[str], None],
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    cwd: Path | None = None,
) -> None:
    """Run ARGV, handing each line of its output (stdout and stderr together) to ON_LINE as it comes, so a
    long step can show how far it is; fails as `run` does."""
    try:
        process = subprocess.Popen(
            list(argv),
            env=dict(env) if env is not None else None,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
    except FileNotFoundError as exc:
        raise ToolMissing(f"{what}: `{argv[0]}` is not installed or not on PATH.") from exc
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        process.kill()

    timer = threading.Timer(timeout or 0, expire)
    if timeout is not None:
        timer.start()
    tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
    with process:  # closes the pipe and waits, whatever happens
        try:
            for line in process.stdout or ():
                if line.strip():
                    tail.append(line)
                on_line(line.rstrip())
        finally:  # an error in ON_LINE or an interrupt leaves no process behind
            timer.cancel()
            if process.poll() is None:
                process.kill()
    if expired.is_set():
        raise CommandFailed(f"{what} did not finish within {timeout:.0f} s: {' '.join(argv[:3])} ...")
    if process.returncode != 0:
        raise _failed(what, process.returncode, tail)


def _failed(what: str, returncode: int, output: Iterable[str]) -> CommandFailed:
    """The failure with the last lines the tool printed: usually the reason."""
    lines = [line.strip() for line in output if line.strip()][-TAIL_LINES:]
    return CommandFailed(f"{what} failed (exit {returncode}): {' | '.join(lines) or 'no output'}")
