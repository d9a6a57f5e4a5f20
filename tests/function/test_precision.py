"""fp32 vs int8: the precision setting picks its own export; int8 keeps fp32's labels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inference import paths
from inference.errors import InvalidSetting


def test_each_precision_has_its_own_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    monkeypatch.delenv(paths.MODEL_DIR_ENV, raising=False)
    monkeypatch.delenv(paths.PRECISION_ENV, raising=False)
    fp32 = paths.model_dir()
    monkeypatch.setenv(paths.PRECISION_ENV, "int8")
    assert paths.model_dir() == fp32.with_name(fp32.name + "-int8")


def test_unknown_precision_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(paths.PRECISION_ENV, "fp16")
    with pytest.raises(InvalidSetting, match="'fp16' is not one of fp32, int8"):
        paths.model_dir()


@pytest.mark.model
@pytest.mark.torch
def test_int8_export_keeps_the_labels_of_fp32(tmp_path: Path, sample_events: dict[str, Path]) -> None:
    from inference.pipeline import Pipeline
    from inference.prepare import INT8_MIN_LABEL_AGREEMENT, prepare

    prepare(tmp_path / "int8", precision="int8")
    manifest = json.loads((tmp_path / "int8" / "manifest.json").read_text())
    assert manifest["precision"] == "int8"
    assert manifest["int8_vs_fp32"]["label_agreement"] >= INT8_MIN_LABEL_AGREEMENT
    assert (tmp_path / "int8" / "model.onnx").stat().st_size < 30_000_000

    pipeline = Pipeline.load(tmp_path / "int8")
    results = pipeline.predict(["I was charged twice for my subscription", "Where is my parcel?"])
    assert [r["label"] for r in results] == ["billing", "shipping"]
    assert pipeline.model["precision"] == "int8"
