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
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.text import Text

STDERR = Console(stderr=True)
LOG_WIDTH = 160
if not STDERR.is_terminal:  # a log file has no width: give a finished bar room, or rich cuts it at 80 columns
    STDERR.width = max(STDERR.width, LOG_WIDTH)


def setup(verbose: bool = False) -> None:
    """Route every `logging` record of the kit through rich (one line each, no path noise); where stderr is
    no terminal (CI, a log file) one plain line per record, never wrapped or padded to 80 columns."""
    handler: logging.Handler
    if STDERR.is_terminal:
        handler = RichHandler(console=STDERR, show_path=False, markup=False, rich_tracebacks=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = logging.StreamHandler(STDERR.file)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%H:%M:%S"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
    logging.getLogger("lambdakit").setLevel(logging.DEBUG if verbose else logging.INFO)


@dataclass
class Bar:
    """One task of a progress display: callers only say how far they are."""

    progress: Progress
    task: TaskID
    description: str

    def update(self, completed: float | None = None, total: float | None = None, note: str = "") -> None:
        self.progress.update(self.task, completed=completed, total=total, description=note or None)

    def advance(self, amount: float = 1) -> None:
        self.progress.advance(self.task, amount)

    def finish(self) -> None:
        """Back to its own description; a bar whose total was never known ends full at what it counted."""
        task = self.progress.tasks[self.progress.task_ids.index(self.task)]
        total = task.completed if task.total is None else task.total
        self.progress.update(self.task, total=total, description=self.description)


class Amount(ProgressColumn):
    """How far a task is, in its own unit: sizes and speed for bytes, `done/total` (or `done`) for steps."""

    def __init__(self) -> None:
        super().__init__()
        self.size, self.speed, self.count = DownloadColumn(), TransferSpeedColumn(), MofNCompleteColumn()

    def render(self, task: Task) -> Text:
        if task.fields.get("unit") == "bytes":
            return Text.assemble(self.size.render(task), " ", self.speed.render(task))
        if task.total is None:
            return Text(f"{task.completed:.0f}" if task.completed else "")
        return self.count.render(task)


_display: list[Progress] = []  # the display on screen, if any: rich shows one live display at a time


@contextlib.contextmanager
def progress(description: str, total: float | None = None, unit: str = "steps") -> Iterator[Bar]:
    """A progress bar for a long step: `unit="bytes"` shows sizes and speed, else `done/total` counts.

    With no total (unknown length, e.g. debootstrap) it shows a spinner and the elapsed time. A step
    within a step gets a line of its own on the display already shown. When the block ends without an
    error the bar shows its own description again and stops (`Bar.finish`); after an error it stays as it was.
    """
    if _display:
        bar = Bar(_display[-1], _display[-1].add_task(description, total=total, unit=unit), description)
        yield bar
        bar.finish()
        return
    columns = (SpinnerColumn(finished_text="✓"), TextColumn("{task.description}"), BarColumn(), Amount())
    with Progress(*columns, TimeElapsedColumn(), console=STDERR, transient=False) as display:
        _display.append(display)
        try:
            bar = Bar(display, display.add_task(description, total=total, unit=unit), description)
            yield bar
            bar.finish()
        finally:
            _display.pop()


def human_bytes(size: float) -> str:
    """Decimal units, as registries and AWS bill them: 950 B, 9.4 KB, 87.3 MB, 1.2 GB."""
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"
