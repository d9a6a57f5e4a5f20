"""Run an external tool with its argv built elsewhere; failures become one-line `KitError`s."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
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
        tail = " | ".join(line.strip() for line in output[-TAIL_LINES:] if line.strip())
        raise CommandFailed(f"{what} failed (exit {completed.returncode}): {tail or 'no output'}")
    return completed.stdout or ""
