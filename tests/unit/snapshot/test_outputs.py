"""The snapshot's output folder: work folders swept only when their process is gone, and the report and
the tarball replaced together, even by a run killed between the two moves."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lambdakit.core.errors import TarballRejected
from lambdakit.snapshot import integrity, outputs

REPO = Path(__file__).resolve().parents[3]


def outputs_of(folder: Path, tag: str) -> None:
    (folder / "assets.tar").write_text(f"tarball {tag}")
    (folder / "report.json").write_text(json.dumps({"tarball": {"sha256": tag}}))


def state(folder: Path) -> tuple[str | None, str | None]:
    tar = folder / "assets.tar"
    report = folder / "report.json"
    return (
        tar.read_text() if tar.exists() else None,
        json.loads(report.read_text())["tarball"] if report.exists() else None,
    )


def test_a_commit_replaces_both_or_removes_the_tarball_when_none_was_staged(tmp_path: Path) -> None:
    outputs_of(tmp_path, "old")
    with outputs.work_folder(tmp_path, outputs.WORK_PREFIX) as work:
        outputs_of(work, "new")
        outputs.commit(tmp_path, work, ("assets.tar", "report.json"))
    assert state(tmp_path) == ("tarball new", {"sha256": "new"})
    with outputs.work_folder(tmp_path, outputs.WORK_PREFIX) as work:
        (work / "report.json").write_text(json.dumps({"tarball": None}))
        outputs.commit(tmp_path, work, ("assets.tar", "report.json"))
    assert state(tmp_path) == (None, None)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock", "report.json"]


def test_a_run_killed_between_the_two_moves_is_finished_by_the_next_start(tmp_path: Path) -> None:
    # GIVEN a run that recorded its commit and moved the tarball, then died (no one locks its folder)
    outputs_of(tmp_path, "old")
    staged = tmp_path / ".snapshot-dead" / "out"
    staged.mkdir(parents=True)
    (tmp_path / ".snapshot-dead" / outputs.LOCK_NAME).touch()
    outputs_of(staged, "new")
    journal = {"staged": ".snapshot-dead/out", "replace": ["assets.tar", "report.json"], "remove": []}
    (tmp_path / outputs.JOURNAL_NAME).write_text(json.dumps(journal))
    (staged / "assets.tar").replace(tmp_path / "assets.tar")
    assert state(tmp_path) == ("tarball new", {"sha256": "old"})  # the inconsistent moment
    # WHEN `assets` looks at the tarball, or the next run starts
    with contextlib.suppress(TarballRejected):  # these made-up outputs are no tarball
        integrity.check_tarball(tmp_path / "assets.tar", None)
    assert state(tmp_path) == ("tarball new", {"sha256": "new"})
    swept = outputs.start(tmp_path)
    # THEN the commit is complete and the dead run's folder is gone
    assert state(tmp_path) == ("tarball new", {"sha256": "new"})
    assert swept == [tmp_path / ".snapshot-dead"]
    assert not (tmp_path / outputs.JOURNAL_NAME).exists()


def test_a_run_killed_before_its_commit_leaves_the_previous_outputs(tmp_path: Path) -> None:
    outputs_of(tmp_path, "old")
    staged = tmp_path / ".snapshot-dead" / "out"
    staged.mkdir(parents=True)
    outputs_of(staged, "new")
    (tmp_path / ".snapshot-dead" / outputs.LOCK_NAME).touch()
    outputs.start(tmp_path)
    assert state(tmp_path) == ("tarball old", {"sha256": "old"})
    assert not (tmp_path / ".snapshot-dead").exists()


def test_only_folders_whose_process_is_gone_are_swept(tmp_path: Path) -> None:
    # GIVEN a folder locked by a live process, one whose process died, a kept one and an old unlocked one
    dead = tmp_path / ".verify-dead"
    (dead / "ro").mkdir(parents=True)
    (dead / outputs.LOCK_NAME).touch()
    (dead / "ro" / "file").touch()
    (dead / "ro").chmod(0o500)  # a command may leave read-only folders
    with outputs.work_folder(tmp_path, outputs.WORK_PREFIX, keep=True) as kept:
        pass
    old = tmp_path / ".snapshot-from-an-older-kit"
    old.mkdir()
    os.utime(old, (time.time() - 2 * outputs.UNLOCKED_GRACE_S,) * 2)
    fresh = tmp_path / ".snapshot-being-created"
    fresh.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    argv = [sys.executable, "-c", HOLD, str(tmp_path)]
    with subprocess.Popen(argv, env=env, stdout=subprocess.PIPE) as holder:
        assert holder.stdout is not None
        live = Path(holder.stdout.readline().decode().strip())
        # WHEN swept
        swept = outputs.sweep(tmp_path, (outputs.WORK_PREFIX, outputs.VERIFY_PREFIX))
        holder.kill()
    # THEN only the dead and the old one are gone
    assert sorted(swept) == sorted([dead, old])
    assert live.is_dir() and kept.is_dir() and fresh.is_dir() and not dead.exists()
    assert outputs.sweep(tmp_path, (outputs.WORK_PREFIX,)) == [live]  # its process is gone now


HOLD = """
import sys, time
from pathlib import Path
from lambdakit.core.errors import TarballRejected
from lambdakit.snapshot import integrity, outputs
with outputs.work_folder(Path(sys.argv[1]), outputs.WORK_PREFIX) as folder:
    print(folder, flush=True)
    time.sleep(600)
"""


def test_a_report_update_never_lands_beside_another_runs_tarball(tmp_path: Path) -> None:
    outputs_of(tmp_path, "theirs")
    assert not outputs.update_report(tmp_path, {"tarball": {"sha256": "mine"}, "verify": {}})
    assert state(tmp_path) == ("tarball theirs", {"sha256": "theirs"})
    assert outputs.update_report(tmp_path, {"tarball": {"sha256": "theirs"}, "verify": {"passed": True}})
    assert json.loads((tmp_path / "report.json").read_text())["verify"] == {"passed": True}


def test_ctrl_c_in_the_middle_of_a_commit_waits_until_both_are_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    outputs_of(tmp_path, "old")
    real_replace = Path.replace
    # Ctrl-C as a fresh process has it: an earlier test in this process may have left another handler
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    request.addfinalizer(lambda: signal.signal(signal.SIGINT, previous))

    def replace_then_interrupt(self: Path, target: Path) -> Path:
        moved = real_replace(self, target)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # the signal arrives here, between two moves of the commit
        return moved

    with pytest.raises(KeyboardInterrupt), outputs.work_folder(tmp_path, outputs.WORK_PREFIX) as work:
        outputs_of(work, "new")
        monkeypatch.setattr(Path, "replace", replace_then_interrupt)
        outputs.commit(tmp_path, work, ("assets.tar", "report.json"))
    monkeypatch.undo()
    assert state(tmp_path) == ("tarball new", {"sha256": "new"})
    assert not (tmp_path / outputs.JOURNAL_NAME).exists()
