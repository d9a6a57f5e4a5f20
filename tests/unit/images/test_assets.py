"""The assets step stops with the nox process that started it (no Docker: the signals alone)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
# Stands in for `python -m lambdakit assets` in the middle of its import: armed as its cli arms it.
CHILD = """
import sys, time
from pathlib import Path
from lambdakit.images import assets
assets.stop_with_parent()
Path(sys.argv[1]).write_text("ready")
try:
    time.sleep(60)
except KeyboardInterrupt as stopped:
    Path(sys.argv[1]).write_text(f"interrupted by {stopped}")
    raise
"""
NOX = "import subprocess, sys; subprocess.run(sys.argv[1:])"  # nox runs a session's command as a child


def wait_for(condition: object, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_the_assets_step_unwinds_when_its_nox_process_ends(sig: signal.Signals, tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    # GIVEN the assets step running under a nox-like parent
    nox = subprocess.Popen([sys.executable, "-c", NOX, sys.executable, "-c", CHILD, str(state)], env=env)
    assert wait_for(lambda: state.exists() and state.read_text() == "ready", 30)
    # WHEN the parent is told to stop (nox's SIGTERM ends it at once) or is killed outright
    nox.send_signal(sig)
    nox.wait(timeout=10)
    # THEN the step gets SIGTERM from the kernel and unwinds as Ctrl-C would (its cleanup runs)
    assert wait_for(lambda: state.read_text().startswith("interrupted"), 10), state.read_text()
    assert state.read_text() == "interrupted by SIGTERM"
