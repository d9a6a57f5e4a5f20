"""A failed step's error: its last lines, a full disk said as such, the root cause on the first line."""

from __future__ import annotations

from pathlib import Path

from lambdakit.core.errors import DiskFull, SnapshotCommandFailed
from lambdakit.snapshot import sandbox, steps


def test_a_failed_step_shows_its_last_lines_and_a_full_disk_says_so(tmp_path: Path) -> None:
    failed = sandbox.StepResult(("python", "x.py"), 3, 1.0, ("Traceback", "ValueError: boom"))
    error = steps.failure(failed, tmp_path / "log", "snapshot")
    assert (
        isinstance(error, SnapshotCommandFailed)
        and "status 3" in str(error)
        and "ValueError: boom" in str(error)
    )
    full = sandbox.StepResult(("python", "x.py"), 1, 1.0, ("OSError: [Errno 28] No space left on device",))
    assert isinstance(steps.failure(full, tmp_path / "log", "snapshot"), DiskFull)


def test_a_failed_snapshots_first_line_names_the_root_cause_found_in_the_log(tmp_path: Path) -> None:
    log = tmp_path / "snapshot.log"
    log.write_text("ConnectionRefusedError: [Errno 111] Connection refused\n" + "noise\n" * 40)
    failed = sandbox.StepResult(
        ("python", "-m", "lambdakit", "dev"), 1, 1.0, ("LookupError: Resource not found",)
    )
    network = [{"kind": "connect", "host": "127.0.0.1", "port": 8765, "library": "nltk"}]
    first = str(steps.failure(failed, log, "snapshot", network)).splitlines()[0]
    assert "127.0.0.1:8765 (nltk) refused the connection" in first
