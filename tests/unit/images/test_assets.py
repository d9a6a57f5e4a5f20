"""The assets step: it stops with the nox process that started it (no Docker: the signals alone), and the
last snapshot's report decides whether the function has an asset image (read by build and deploy)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lambdakit.aws import deploy
from lambdakit.core.config import ProjectConfig
from lambdakit.images import assets

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


def report(tmp_path: Path, value: str | None) -> Path:
    path = tmp_path / "report.json"
    path.write_text(json.dumps({"schema": 2, "assets": value, "tarball": None}))
    return path


def test_a_report_saying_none_means_no_asset_image(tmp_path: Path) -> None:
    assert assets.none_recorded(report(tmp_path, "none")) is True
    assert assets.none_recorded(report(tmp_path, "tarball")) is False
    assert assets.none_recorded(report(tmp_path, None)) is False  # a failed run: not a decision
    assert assets.none_recorded(tmp_path / "absent.json") is False  # never snapshotted: an image is needed


def test_the_deploy_pushes_no_asset_image_when_there_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(assets, "none_recorded", lambda report=None: True)
    assert deploy.local_asset_image(ProjectConfig(project="noasset-unit"), "x86_64") is None
