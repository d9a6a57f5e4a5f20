"""Running the steps in a sandbox with a progress line each (output logged, credentials redacted), and a
failed step's error whose first line names the root cause."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from lambdakit.core.errors import DiskFull, SnapshotCommandFailed
from lambdakit.snapshot import credentials, refusals, sandbox, secrets
from lambdakit.snapshot.options import Options

DISK_FULL_MARKERS = ("No space left on device", "[Errno 28]", "Disk quota exceeded")


def run_commands(
    options: Options,
    commands: Sequence[tuple[str, ...]],
    box: sandbox.Sandbox,
    env: Mapping[str, str],
    log: IO[str],
    console: Console,
    title: str,
    prefix: Sequence[str] = (),
) -> list[sandbox.StepResult]:
    """Every step with a progress line showing its latest output; stops at the first failure. What the
    steps print is redacted: the caller's credential values appear by name only (log, messages)."""
    redact = secrets.redactor(credentials.known_values(options.env))
    results = []
    total = len(commands)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        for index, argv in enumerate(commands, 1):
            label = f"{title} [{index}/{total}] {_short(argv)}"
            task = progress.add_task(label, total=None)

            def show(line: str, task: Any = task, label: str = label) -> None:
                progress.update(task, description=f"{label} [dim]{_clip(line)}[/]")

            result = sandbox.run_step(argv, env, options.cwd, log, show, prefix, redact)
            progress.remove_task(task)
            mark = "[green]ok[/]" if result.returncode == 0 else f"[red]exit {result.returncode}[/]"
            console.print(f"{label}  {mark}  {result.seconds:.1f} s", highlight=False)
            results.append(result)
            if result.returncode != 0:
                break
    return results


def _short(argv: Sequence[str]) -> str:
    first = Path(argv[0])
    words = [first.name if first.is_absolute() and first.name.startswith("python") else argv[0], *argv[1:]]
    return shlex.join(words)


def _clip(line: str, width: int = 60) -> str:
    line = re.sub(r"\[", r"\\[", line.strip())
    return line if len(line) <= width else line[: width - 1] + "…"


def failure(
    result: sandbox.StepResult,
    log_path: Path,
    what: str,
    network: Sequence[Mapping[str, Any]] = (),
    read_from: Path | None = None,
) -> SnapshotCommandFailed | DiskFull:
    """The step's failure in one first line that names the root cause (the log holds what the tail lost;
    READ_FROM is where it is now when it is not yet at LOG_PATH)."""
    tail = "\n".join(f"    {line}" for line in result.tail[-12:])
    if any(marker in line for line in result.tail for marker in DISK_FULL_MARKERS):
        return DiskFull(
            f"the disk filled up while {what} ran `{shlex.join(result.argv)}`: free some space "
            f"or pass --output on a larger disk; its last lines:\n{tail}"
        )
    cause = refusals.root_cause([*_log_lines(read_from or log_path), *result.tail], network)
    because = f": {cause}" if cause else ""
    return SnapshotCommandFailed(
        f"`{shlex.join(result.argv)}` exited with status {result.returncode} during the {what}{because} "
        f"(full output: {log_path}); fix the command, then run the snapshot again. Its last lines:\n{tail}"
    )


def _log_lines(path: Path, limit: int = 2000) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()[-limit:]
    except OSError:
        return []


def open_log(path: Path, mode: str) -> IO[str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open(mode, encoding="utf-8")
