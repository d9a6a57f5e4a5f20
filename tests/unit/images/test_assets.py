"""Whether the function has an asset image: the last snapshot's report decides, read by build and deploy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambdakit.aws import deploy
from lambdakit.images import assets


def report(tmp_path: Path, value: str | None) -> Path:
    path = tmp_path / "report.json"
    path.write_text(json.dumps({"schema": 2, "assets": value, "tarball": None}))
    return path


def test_a_report_saying_none_means_no_asset_image(tmp_path: Path) -> None:
    assert assets.none_recorded(report(tmp_path, "none")) is True
    assert assets.none_recorded(report(tmp_path, "tarball")) is False
    assert assets.none_recorded(report(tmp_path, None)) is False  # a failed run: not a decision
    assert assets.none_recorded(tmp_path / "absent.json") is False  # never snapshotted: an image is needed


def test_assets_has_nothing_to_build_and_succeeds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = report(tmp_path, "none")
    assert assets.cli(["--report", str(path)]) == 0
    assert "nothing to build" in capsys.readouterr().out


def test_the_deploy_pushes_no_asset_image_when_there_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(assets, "none_recorded", lambda report=None: True)
    assert deploy.local_asset_image("noasset-unit") is None
    monkeypatch.setattr(assets, "none_recorded", lambda report=None: False)
    assert assets.required("noasset-unit") == "noasset-unit-assets:latest"
