"""The kit's console: log records through rich's handler, progress bars for long steps, result tables.

Commands log with `logging.getLogger(__name__)`; `python -m lambdakit` calls `setup()` once. Logs and
progress go to stderr, so a command's result on stdout stays clean for pipes. Outside a terminal (CI, nox
capturing output) rich draws no live bars and a finished bar is printed once.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

STDERR = Console(stderr=True)


def setup(verbose: bool = False) -> None:
    """Route every `logging` record of the kit through rich (one line each, no path noise)."""
    handler = RichHandler(console=STDERR, show_path=False, markup=False, rich_tracebacks=False)
    logging.basicConfig(level=logging.WARNING, format="%(message)s", handlers=[handler], force=True)
    logging.getLogger("lambdakit").setLevel(logging.DEBUG if verbose else logging.INFO)


@dataclass
class Bar:
    """One task of a progress display: callers only say how far they are."""

    progress: Progress
    task: TaskID

    def update(self, completed: float | None = None, total: float | None = None, note: str = "") -> None:
        self.progress.update(self.task, completed=completed, total=total, description=note or None)

    def advance(self, amount: float = 1) -> None:
        self.progress.advance(self.task, amount)


@contextlib.contextmanager
def progress(description: str, total: float | None = None, unit: str = "steps") -> Iterator[Bar]:
    """A progress bar for a long step: `unit="bytes"` shows sizes and speed, else `done/total` counts.

    With no total (unknown length, e.g. debootstrap) it shows a spinner and the elapsed time.
    """
    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn()]
    if unit == "bytes":
        columns += [DownloadColumn(), TransferSpeedColumn()]
    elif total is not None:
        columns += [MofNCompleteColumn()]
    columns += [TimeElapsedColumn()]
    with Progress(*columns, console=STDERR, transient=False) as display:
        yield Bar(display, display.add_task(description, total=total))


def human_bytes(size: float) -> str:
    """Decimal units, as registries and AWS bill them: 950 B, 9.4 KB, 87.3 MB, 1.2 GB."""
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"
