"""The snapshot's output folder: its work folders, and its report and tarball replaced together.

Work folders: a run works in `<output>/.snapshot-*`, its verify in `<output>/.verify-*` and
`$TMPDIR/lambdakit-verify-*`. Each holds a `.lock` its process keeps locked (flock) for its lifetime, so the
next start removes exactly the folders whose process is gone, however it ended (SIGKILL included), and never
the folder of a run still going.

Commit: a run writes its new report, log (and tarball) into its work folder, then records the swap in
`<output>/.commit` and moves them into place; a run killed between the moves is finished by the next
start (or by `assets`) from that record. So `report.json` and `snapshot.log` always describe the `assets.tar`
beside them, or say there is none, and an interrupted run leaves the previous outputs as they were.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import stat
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

TARBALL_NAME = "assets.tar"
REPORT_NAME = "report.json"
REPORT_SCHEMA = 2  # 2: each shipped file's sha256, the tarball's manifest, secrets with their reason
NO_ASSETS = "none"  # report.json's "assets" when the snapshot found nothing to ship (no tarball)
LOG_NAME = "snapshot.log"
WORK_PREFIX = ".snapshot-"
VERIFY_PREFIX = ".verify-"
TEMP_PREFIX = "lambdakit-verify-"
LOCK_NAME = ".lock"
KEPT_NAME = ".kept"  # a sandbox kept on purpose (--keep): never swept
JOURNAL_NAME = ".commit"
UNLOCKED_GRACE_S = 3600  # a folder without a lock: being created, or left by a kit that had none


# ---------------------------------------------------------------------------------------------- work folders


@contextlib.contextmanager
def work_folder(parent: Path, prefix: str, keep: bool = False) -> Iterator[Path]:
    """A new folder under PARENT, locked by this process until it is removed (or kept, with KEEP)."""
    parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    with (folder / LOCK_NAME).open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield folder
        finally:
            if keep:
                (folder / KEPT_NAME).touch()
            else:
                remove_tree(folder)


def sweep(parent: Path, prefixes: Sequence[str]) -> list[Path]:
    """Remove the work folders under PARENT whose process is gone; the ones removed."""
    swept = []
    for folder in sorted(parent.glob("*")) if parent.is_dir() else []:
        if folder.name.startswith(tuple(prefixes)) and folder.is_dir() and _abandoned(folder):
            remove_tree(folder)
            swept.append(folder)
    return swept


def _abandoned(folder: Path) -> bool:
    if (folder / KEPT_NAME).exists():
        return False
    try:
        lock: IO[str] = (folder / LOCK_NAME).open("r")
    except FileNotFoundError:
        return time.time() - folder.stat().st_mtime > UNLOCKED_GRACE_S
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # its process holds the lock: still running
    return True


def remove_tree(path: Path) -> None:
    """Remove PATH entirely, read-only folders a command left behind included."""
    for directory, subdirectories, _ in os.walk(path):
        for name in subdirectories:  # before os.walk descends: it must be able to list them
            child = Path(directory) / name
            if not child.is_symlink():  # chmod follows links: never touch what a link points at
                with contextlib.suppress(OSError):
                    child.chmod(stat.S_IRWXU)
    shutil.rmtree(path, ignore_errors=True)


def settle(output: Path) -> None:
    """Finish a commit an interrupted run left in OUTPUT (nothing to do when there is none)."""
    if (output / JOURNAL_NAME).exists():
        with _locked(output):
            _finish_commit(output)


def start(output: Path) -> list[Path]:
    """Before a run: finish a commit an interrupted run left, then sweep abandoned work folders."""
    output.mkdir(parents=True, exist_ok=True)
    settle(output)
    return sweep(output, (WORK_PREFIX, VERIFY_PREFIX)) + sweep(Path(tempfile.gettempdir()), (TEMP_PREFIX,))


# ---------------------------------------------------------------------------------------------- commit


def commit(output: Path, staged: Path, names: Sequence[str]) -> None:
    """Put NAMES of the STAGED folder in place in OUTPUT together; a name not staged is removed there."""
    journal = {
        "staged": str(staged.relative_to(output)),
        "replace": [n for n in names if (staged / n).exists()],
        "remove": [n for n in names if not (staged / n).exists()],
    }
    with _uninterrupted(), _locked(output):
        _write_atomically(output / JOURNAL_NAME, json.dumps(journal))
        _finish_commit(output)


def _finish_commit(output: Path) -> None:
    """Apply the journal's moves (each is idempotent), then drop it: the commit is then complete."""
    journal_path = output / JOURNAL_NAME
    if not journal_path.is_file():
        return
    journal = json.loads(journal_path.read_text(encoding="utf-8"))
    staged = output / journal["staged"]
    for name in journal["replace"]:  # the tarball first: the report must never describe a missing one
        if (staged / name).exists():
            (staged / name).replace(output / name)
    for name in journal["remove"]:
        (output / name).unlink(missing_ok=True)
    journal_path.unlink()


def update_report(output: Path, report: Mapping[str, Any]) -> bool:
    """Rewrite OUTPUT's report in place, unless another run has replaced its tarball meanwhile."""
    path = output / REPORT_NAME
    with _locked(output):
        current = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        if (current.get("tarball") or {}).get("sha256") != (report.get("tarball") or {}).get("sha256"):
            return False
        write_report(path, report)
    return True


def write_report(path: Path, report: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(path, json.dumps(report, indent=2, sort_keys=False) + "\n")


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


@contextlib.contextmanager
def _uninterrupted() -> Iterator[None]:
    """Hold Ctrl-C, SIGTERM and SIGHUP until the block is done, then deliver them: an interrupt between the
    two moves would unwind and remove the staged report the journal still points at. (SIGKILL cannot be
    held: the journal covers it.)"""
    if threading.current_thread() is not threading.main_thread():
        yield  # handlers can only be changed in the main thread, where the snapshot commits
        return
    pending: list[int] = []
    held = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.signal(sig, lambda signum, _: pending.append(signum)) for sig in held}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for signum in pending:
            signal.raise_signal(signum)


@contextlib.contextmanager
def _locked(output: Path) -> Iterator[None]:
    """One commit, recovery or report update at a time per output folder (across processes)."""
    with (output / LOCK_NAME).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
