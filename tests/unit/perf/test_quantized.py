"""`bench --quantize`: the int8 asset tarball, its accuracy figures and the third column of the report."""

from __future__ import annotations

import dataclasses
import json
import tarfile
from pathlib import Path

import pytest

from lambdakit.core.errors import ConfigError
from lambdakit.core.settings import IMAGE_CACHE_ROOT, kit_env
from lambdakit.perf import quantized
from lambdakit.perf.bench import compare, pushes, report
from lambdakit.perf.bench.results import BenchResults, Int8Column
from lambdakit.snapshot import sandbox, tarball
from tests.unit.perf.test_bench import BASELINE, KIT, bench_results, side

MODEL_FILES = ("model.onnx", "tokenizer.json", "prototypes.json", "manifest.json")
EXPORT = "model-onnx-int8"


def prepared_int8(cache_root: Path, name: str = EXPORT, precision: str = "int8") -> Path:
    """An export as the demo's prepare hook writes it (the kit knows only its manifest's precision)."""
    export = cache_root / "huggingface" / "exports" / name
    export.mkdir(parents=True)
    for file in MODEL_FILES:
        (export / file).write_text(file)
    manifest = {"precision": precision, "int8_vs_fp32": {"label_agreement": 1.0}}
    (export / "manifest.json").write_text(json.dumps(manifest))
    return export


def test_int8_tarball_holds_the_int8_export_under_its_image_path(tmp_path: Path) -> None:
    cache_root = tmp_path / "cache"
    prepared_int8(cache_root, "model-onnx", "fp32")  # beside it: not shipped
    export = prepared_int8(cache_root)
    assert quantized.export_dir(cache_root) == export
    members = quantized.members_of(export, cache_root)
    written = tarball.write(members, IMAGE_CACHE_ROOT, tmp_path / "assets.tar")
    with tarfile.open(written.path) as archive:
        files = sorted(m.name for m in archive.getmembers() if m.isfile())
    where = f"cache/huggingface/exports/{EXPORT}"
    assert files == sorted([f"{where}/{name}" for name in MODEL_FILES] + [f"cache/{tarball.MANIFEST_NAME}"])
    # the function image finds the manifest where the accuracy is read from
    assert quantized.manifest_in_image(export) == f"/{where}/manifest.json"


def test_an_unprepared_int8_export_is_refused_with_the_command_that_makes_it(tmp_path: Path) -> None:
    export = tmp_path / "huggingface" / "exports" / EXPORT
    export.mkdir(parents=True)
    (export / "model.onnx").write_bytes(b"half written, no manifest yet")
    with pytest.raises(ConfigError, match="INFERENCE_PRECISION=int8 nox -s prepare"):
        quantized.export_dir(tmp_path)


def test_label_agreement_counts_the_texts_that_keep_fp32s_label() -> None:
    result = quantized.label_agreement(
        ["billing", "shipping", "account"], ["billing", "technical", "account"]
    )
    assert (result["texts"], result["same"], result["agreement"]) == (3, 2, pytest.approx(0.6667))
    assert result["differs"] == [{"index": 1, "fp32": "shipping", "int8": "technical"}]
    with pytest.raises(ValueError, match="3 reference labels but 2"):
        quantized.label_agreement(["a", "b", "c"], ["a", "b"])


def test_snapshot_sandbox_keeps_the_precision_the_user_asked_for(tmp_path: Path) -> None:
    box = sandbox.Sandbox(tmp_path / "home", tmp_path / "cache", tmp_path / "tmp", tmp_path / "audit.jsonl")
    caller = {"PATH": "/bin", quantized.PRECISION_ARG: "int8", **kit_env("/elsewhere")}
    for verify in (False, True):
        env = sandbox.command_env(caller, box, verify=verify)
        assert env[quantized.PRECISION_ARG] == "int8"  # prepare and the handler pick the int8 export
        assert env["HF_HOME"] == f"{tmp_path / 'cache'}/huggingface"  # while the caches are the sandbox's


def int8_results() -> BenchResults:
    int8 = side(400.0, 2.0, above=220 * 10**6, code_push=None, weights=[], weights_bytes=23 * 10**6)
    kit = dataclasses.replace(KIT, image=dataclasses.replace(KIT.image, weights_bytes=91 * 10**6))
    results = bench_results(kit, BASELINE)
    to_baseline = compare.ratios(int8, BASELINE)
    manifest = {"texts": 16, "label_agreement": 1.0, "min_cosine": 0.9289, "mean_cosine": 0.9642}
    results.int8 = Int8Column(
        side=int8,
        ratios=to_baseline,
        ratios_to_kit=compare.ratios(int8, kit),
        accuracy=compare.int8_accuracy(manifest, ["billing", "hi"], ["billing", "other"]),
        targets=compare.targets(int8, to_baseline),
    )
    return results


def test_int8_column_sits_beside_the_kit_with_its_ratios_and_accuracy() -> None:
    results = int8_results()
    text = report.markdown(results)
    header = (
        "| figure | kit (ONNX Runtime) | baseline (torch) | kit / baseline | kit int8 | int8 / baseline | "
    )
    assert text.startswith(header + "int8 / kit |\n|---|---|---|---|---|---|---|\n")
    assert (
        "| cold start (start → first response, median) | 450.0 ms | 6,000.0 ms | 0.075x | 400.0 ms " in text
    )
    assert "| warm p50, one short text | 4.0 ms | 20.0 ms | 0.200x | 2.0 ms | 0.100x | 0.500x |" in text
    assert "| weights layer | 91.0 MB | — |  | 23.0 MB |  |  |" in text
    assert "| push after code-only change | 50.0 KB | 60.0 KB | 0.833x | — | — | — |" in text
    assert "| int8 vs fp32: same label (16 evaluation texts of prepare) |  |  |  | 100.0% |  |  |" in text
    assert "| int8 vs fp32: embedding cosine min / mean |  |  |  | 0.9289 / 0.9642 |  |  |" in text
    assert "| int8 vs fp32 containers: same label (2 bench texts) |  |  |  | 1/2 |  |  |" in text
    # int8's own targets: what was measured is judged, the pushes it skips are not claimed
    assert "| target (kit int8) | measured | met |" in text
    assert results.int8 is not None
    int8_targets = {t.target: t.met for t in results.int8.targets}
    assert int8_targets["warm p50, one short text ≤ 5 ms"] is True
    assert int8_targets["code-only push ≤ 100 KB"] is None
    assert all(len(row) == 7 for row in report.table_rows(results))


def test_without_quantize_the_report_keeps_its_four_columns() -> None:
    results = int8_results()
    results.int8 = None
    assert report.markdown(results).startswith(
        "| figure | kit (ONNX Runtime) | baseline (torch) | kit / baseline |\n"
    )
    assert "int8" not in report.markdown(results)


def test_kit_int8_is_never_pushed_beside_the_kit() -> None:
    assert pushes.pushed_sides("both") == ("kit", "baseline")
    assert pushes.pushed_sides("kit") == ("kit",) and pushes.pushed_sides("none") == ()
