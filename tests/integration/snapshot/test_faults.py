"""Interrupt a real snapshot at several points: nothing keeps running, the previous outputs stay as they
were, and the next run leaves no debris.

The pipeline leaves a grandchild in its own session that ignores SIGTERM and SIGHUP (the worst case for a
cleanup by process group). Every process of a test carries a unique marker in its environment, so the test
finds any that survive by reading /proc. No Docker.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from lambdakit.snapshot import integrity

REPO = Path(__file__).resolve().parents[3]
PIPELINE = REPO / "tests" / "standins" / "pipelines" / "assets.py"
MARKER = "LAMBDAKIT_FAULT_TEST"


DEFAULT_SIGINT = [
    sys.executable,
    "-c",
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.argv[1], sys.argv[1:])",
]


class Run:
    """`python -m lambdakit snapshot --output OUTPUT -- python assets.py STAGES`, with its own TMPDIR."""

    def __init__(self, root: Path) -> None:
        self.output, self.temp, self.markers = root / "assets", root / "temp", root / "temp" / "markers"
        self.temp.mkdir(parents=True, exist_ok=True)
        self.token = uuid.uuid4().hex
        self.env = {
            **os.environ,
            "PYTHONPATH": str(REPO / "src"),
            "TMPDIR": str(self.temp),
            "STANDIN_MARKERS": str(self.markers),
            MARKER: self.token,
        }

    def argv(self, *stages: str) -> list[str]:
        snapshot = [sys.executable, "-m", "lambdakit", "snapshot", "--output", str(self.output)]
        # Ctrl-C as a terminal delivers it: an ignored SIGINT survives exec, and a test runner started in the
        # background (nox under CI) may pass one on; then the snapshot would never see the interrupt
        return [*DEFAULT_SIGINT, *snapshot, "--", sys.executable, str(PIPELINE), *stages]

    def finish(self, *stages: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(*stages), env=self.env, capture_output=True, text=True, timeout=300, check=False
        )

    def start(self, *stages: str, under_nox: bool = False) -> subprocess.Popen[bytes]:
        """The snapshot, or (UNDER_NOX) a parent that runs it as nox does: a child it waits for."""
        nox = (
            [sys.executable, "-c", "import subprocess, sys; subprocess.run(sys.argv[1:])"]
            if under_nox
            else []
        )
        return subprocess.Popen(
            [*nox, *self.argv(*stages)], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def wait_for(self, name: str, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + 120
        while not (self.markers / f"{name}.ready").exists():
            assert process.poll() is None, f"the snapshot ended (status {process.returncode}) before {name}"
            assert time.monotonic() < deadline, f"{name} never became ready"
            time.sleep(0.1)

    def survivors(self, within_s: float = 20) -> list[str]:
        """Command lines of the processes still carrying this run's marker, after up to WITHIN_S."""
        deadline = time.monotonic() + within_s
        while True:
            found = [cmdline for pid, cmdline in marked_processes(self.token) if pid != os.getpid()]
            if not found or time.monotonic() > deadline:
                return found
            time.sleep(0.2)

    def debris(self) -> list[str]:
        left = [p.name for p in self.output.iterdir() if p.name.startswith((".snapshot-", ".verify-"))]
        left += [p.name for p in self.output.iterdir() if p.name.endswith(".partial") or p.name == ".commit"]
        return left + [p.name for p in self.temp.iterdir() if p.name.startswith("lambdakit-verify-")]


def marked_processes(token: str) -> list[tuple[int, str]]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if f"{MARKER}={token}".encode() in (entry / "environ").read_bytes().split(b"\0"):
                found.append(
                    (int(entry.name), (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
                )
        except OSError:
            continue
    return found


def digests(folder: Path) -> dict[str, str]:
    """The outputs that must change together: the log too describes the tarball beside it."""
    names = ("assets.tar", "report.json", "snapshot.log")
    return {n: hashlib.sha256((folder / n).read_bytes()).hexdigest() for n in names}


@pytest.fixture(scope="module")
def previous(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The outputs of a finished, verified snapshot: what an interrupted run must leave as they are."""
    run = Run(tmp_path_factory.mktemp("previous"))
    result = run.finish("weights", "load")
    assert result.returncode == 0, result.stderr
    return run.output


@pytest.fixture
def run(previous: Path, tmp_path: Path) -> Run:
    run = Run(tmp_path)
    shutil.copytree(previous, run.output)
    return run


@pytest.mark.parametrize(
    ("stage", "sig"),
    [
        ("linger=step", signal.SIGINT),
        ("linger=step", signal.SIGTERM),
        ("linger=step", signal.SIGKILL),
        ("offline-linger=verify", signal.SIGTERM),
        ("offline-linger=verify", signal.SIGKILL),
    ],
    ids=["step-SIGINT", "step-SIGTERM", "step-SIGKILL", "verify-SIGTERM", "verify-SIGKILL"],
)
def test_an_interrupted_snapshot_leaves_no_process_no_debris_and_the_previous_outputs(
    run: Run, stage: str, sig: signal.Signals
) -> None:
    before = digests(run.output)
    # GIVEN a snapshot whose command (or its verify) is running, with a grandchild of its own
    process = run.start("weights", "load", stage)
    run.wait_for(stage.partition("=")[2], process)
    # WHEN the snapshot's own process gets the signal
    process.send_signal(sig)
    process.wait(timeout=60)
    # THEN nothing it started keeps running, and the previous report, log and tarball are untouched
    assert run.survivors() == []
    assert digests(run.output) == before
    assert integrity.check_tarball(run.output / "assets.tar", run.output / "report.json")
    if sig != signal.SIGKILL:  # it could clean up after itself
        assert run.debris() == []
    # AND the next run sweeps whatever was left and replaces both outputs
    again = run.finish("weights", "load")
    assert again.returncode == 0, again.stderr
    assert run.debris() == []
    assert integrity.check_tarball(run.output / "assets.tar", run.output / "report.json")


def test_a_nox_session_killed_by_sigkill_takes_the_snapshot_with_it(run: Run) -> None:
    before = digests(run.output)
    # GIVEN a snapshot run by a parent (as nox runs it), its command running
    nox = run.start("weights", "load", "linger=step", under_nox=True)
    run.wait_for("step", nox)
    # WHEN that parent is killed outright
    nox.kill()
    nox.wait(timeout=60)
    # THEN the snapshot notices, ends its steps and removes its own work folders
    assert run.survivors() == []
    assert run.debris() == []
    assert digests(run.output) == before


def test_a_finished_step_takes_what_it_left_running_with_it(run: Run) -> None:
    # GIVEN a command that exits while a grandchild it started in its own session still runs
    result = run.finish("weights", "load", "linger-then-exit")
    # THEN the step ended, and so did the grandchild
    assert result.returncode == 0, result.stderr
    assert run.survivors(within_s=5) == []
