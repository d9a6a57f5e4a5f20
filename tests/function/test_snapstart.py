"""The demo function is ready for SnapStart: nothing it makes at init breaks a restore."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambdakit.runtime import snapstart

pytestmark = pytest.mark.model
EVENTS = Path(__file__).resolve().parents[2] / "events"


@pytest.mark.usefixtures("model_dir")
def test_the_demo_has_no_snapstart_finding() -> None:
    event = json.loads((EVENTS / "batch.json").read_text())
    report = snapstart.run_dev("inference.handler.lambda_handler", event)
    assert report.ready, [finding.line() for finding in report.findings]
