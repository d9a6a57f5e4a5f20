"""`bench` and `tune` end to end on a real engine, with tiny counts: the pipeline works, not how fast it is.

The figures themselves (cold start, latency, sizes against the targets) are benchmark output, never asserted
here: this machine's timing says nothing about a CI runner's. What is asserted is what users rely on — both
images built (the kit on the project's Python, the torch baseline on a 3.11 base of the same kind: CPU torch
is cp311 only here) and answering with the same labels, every figure present, the push
measurement telling a code change from a dependency change, `--quantize`'s int8 column sharing the kit's
dependency and code layers with its accuracy beside it, and `tune --apply` writing what it recommends.
Images are tagged `lambdakit-test-bench/*` and removed at the end; the baseline's layers stay cached.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdakit.commands import bench, tune
from lambdakit.config import template
from lambdakit.core import config as project_config
from lambdakit.core import runtimes
from lambdakit.core.settings import BASE_IMAGE_ENV
from lambdakit.images import assets, baseimage, engine
from lambdakit.perf import quantized
from tests.assets_fixture import write_assets_tarball

REPO = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.docker

PREFIX = "lambdakit-test-bench"


@pytest.fixture(scope="module")
def bench_images(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The stand-in base (shared, by tag) and an asset image of the prepared model under this area's name."""
    base = baseimage.build(project_config.load().python)
    cache_root = model_dir.parents[2]  # <root>/huggingface/exports/<model>
    tarball = write_assets_tarball(
        cache_root, model_dir, tmp_path_factory.mktemp("bench-assets") / "assets.tar"
    )
    asset = assets.build(tarball, repository=f"{PREFIX}-assets")
    yield base, asset.ref
    ours = ("kit:latest", "baseline:latest", "base:pinned", "baseline/base:pinned", "floor:latest")
    for tag in (*(f"{PREFIX}/{name}" for name in ours), asset.ref, f"{PREFIX}-assets:latest"):
        engine.remove_image(tag)


# prepare's own int8 steps (no torch), run by the prepare environment's interpreter: the only one with the
# function's packages and onnx (the kit's tests run in the tools environment)
MAKE_INT8 = """
import json, sys
from pathlib import Path
from inference import paths, prepare
model_dir, cache_root, precision = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
export = paths.model_dir_for(cache_root, precision)
export.mkdir(parents=True)
prepare.make_int8(model_dir, export)
accuracy = prepare.compare_with_fp32(model_dir, export)
prepare.write_prototypes(export)
fp32 = json.loads((model_dir / "manifest.json").read_text())
prepare.write_manifest(export, fp32["parity_min_cosine"], precision, fp32["fusions"], accuracy)
"""


@pytest.fixture(scope="module")
def int8_asset(
    model_dir: Path, tmp_path_factory: pytest.TempPathFactory, prepare_python: str
) -> Iterator[str]:
    """An asset image of the prepared model quantised to int8 (prepare's own steps that need no torch)."""
    cache_root = tmp_path_factory.mktemp("int8-cache")
    subprocess.run(
        [prepare_python, "-c", MAKE_INT8, str(model_dir), str(cache_root), quantized.INT8],
        env=os.environ | {"PYTHONPATH": str(REPO / "src")},
        check=True,
        timeout=900,
    )
    tarball = tmp_path_factory.mktemp("int8-assets") / "assets.tar"
    ref = quantized.asset_image(f"{PREFIX}-int8-assets", cache_root=cache_root, out=tarball)
    yield ref
    for tag in (ref, f"{PREFIX}-int8-assets:latest", f"{PREFIX}/kit-int8:latest"):
        engine.remove_image(tag)


def test_bench_then_tune_run_end_to_end(
    bench_images: tuple[str, str], int8_asset: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, asset = bench_images
    monkeypatch.setenv(BASE_IMAGE_ENV, base)
    out = tmp_path / "bench"

    # GIVEN tiny counts WHEN the bench runs the three images THEN every figure is there for each side
    argv = ["--cold-starts", "2", "--invokes", "10", "--push", "kit", "--out", str(out)]
    quantize = ["--quantize", "--int8-asset-image", int8_asset]
    assert bench.cli([*argv, "--asset-image", asset, "--tag-prefix", PREFIX, *quantize]) == 0
    results = json.loads((out / "results.json").read_text())
    # the kit on the project's runtime; the torch baseline on the 3.11 stand-in (CPU torch is cp311 only here)
    for image, runtime in (
        (base, project_config.load().runtime),
        (results["baseline_base_image"], runtimes.RUNTIMES["3.11"]),
    ):
        labels = engine.require_image(image, "built by the bench").labels
        assert labels[runtimes.RUNTIME_LABEL] == runtime.identifier
    for side in ("kit", "baseline", "kit_int8"):
        figures = results[side]
        assert len(figures["cold_start_ms"]["runs"]) == 2
        assert figures["cold_start_ms"]["init_report_median"] > 0
        for phase in ("single", "batch8"):
            assert figures[phase]["duration_ms"]["count"] == 10
            assert figures[phase]["errors"] == 0
        assert figures["peak_memory_mb"] > 0
        assert 0 < figures["image"]["above_base_bytes"] < figures["image"]["total_bytes"]
    assert results["parity"]["same"], results["parity"]
    assert results["machine"]["cores"] >= 1
    measured = ("push", "snapstart")  # SnapStart rows only where the engine can checkpoint (restore.refusal)
    assert all(value is not None for key, value in results["ratios"].items() if not key.startswith(measured))
    for side in ("kit", "baseline", "kit_int8"):
        restored = results[side]["snapstart_restored_ms"]
        assert restored is None or len(restored["runs"]) == 2
    assert bool(results["targets_snapstart"]) == (results["kit"]["snapstart_restored_ms"] is not None)
    assert {"target", "value", "limit", "met"} <= set(results["targets"][0])

    # the push measurement tells a code change from a dependency change, and says where the weights went
    pushes = {push["label"]: push for push in results["kit"]["push"]["pushes"]}
    assert pushes["code_only"]["layers_uploaded"] == 1
    assert 0 < pushes["code_only"]["bytes_uploaded"] < pushes["dependency_only"]["bytes_uploaded"]
    assert pushes["dependency_only"]["bytes_uploaded"] < pushes["initial"]["bytes_uploaded"]
    assert pushes["initial"]["weights_uploaded"] is True
    assert isinstance(pushes["code_only"]["weights_uploaded"], bool)
    assert results["baseline"]["push"] is None  # --push kit
    assert (out / "results.md").read_text().startswith("| figure |")

    # the int8 column: the kit's deps and code layers, smaller weights, and its accuracy beside the speed
    kit_layers, int8_layers = (results[s]["image"]["layers_above_base"] for s in ("kit", "kit_int8"))
    assert [layer["digest"] for layer in int8_layers[1:]] == [layer["digest"] for layer in kit_layers[1:]]
    assert results["kit_int8"]["image"]["weights_bytes"] < results["kit"]["image"]["weights_bytes"] / 3
    accuracy = results["int8_accuracy"]
    assert accuracy["prepare_vs_fp32"]["label_agreement"] >= 0.9
    assert accuracy["bench_texts_vs_fp32"]["texts"] == len(results["parity"]["labels"]["kit"]) == 9
    assert results["ratios_int8_kit"]["cold_start"] is not None
    assert results["kit_int8"]["push"] is None
    assert "| kit int8 |" in (out / "results.md").read_text()

    # the cold start's breakdown: each side's parts, beside the floor an empty handler on the base sets
    breakdown = results["cold_start_breakdown"]
    for side in ("kit", "baseline", "kit_int8"):
        parts = breakdown["sides"][side]
        assert parts["runtime_imports_ms"] > 0 and parts["imports_ms"] > 0 and parts["init_code_ms"] > 0
    assert 0 < breakdown["floor_cold_start_ms"] < results["kit"]["cold_start_ms"]["median"]
    assert "| floor: an empty handler" in (out / "results.md").read_text()

    # WHEN tune runs the kit's image at two sizes with --apply THEN the template gets what it recommends
    project = tmp_path / "template.yaml"
    shutil.copyfile(template.TEMPLATE, project)
    tuned = tmp_path / "tune"
    argv = [
        "--memory",
        "512,1769",
        "--invokes",
        "10",
        "--cold-starts",
        "1",
        "--image",
        f"{PREFIX}/kit:latest",
    ]
    assert tune.cli([*argv, "--template", str(project), "--out", str(tuned), "--apply"]) == 0
    document = json.loads((tuned / "results.json").read_text())
    assert [point["memory_mb"] for point in document["points"]] == [512, 1769]
    assert all(point["samples"] == 10 and point["duration_ms"] > 0 for point in document["points"])
    assert (tuned / "tune.png").read_bytes()[:4] == b"\x89PNG"
    chosen = document["recommendations"]["balanced"]
    limits = template.load(project, project=project_config.load()).target
    assert (limits.memory_mb, limits.timeout_s) == (chosen["memory_mb"], chosen["timeout_s"])
