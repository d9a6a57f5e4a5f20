"""`bench` and `tune` end to end on a real engine, with tiny counts: the pipeline works, not how fast it is.

The figures themselves (cold start, latency, sizes against the targets) are benchmark output, never asserted
here: this machine's timing says nothing about a CI runner's. What is asserted is what users rely on — both
images built on the same base and answering with the same labels, every figure present, the push
measurement telling a code change from a dependency change, and `tune --apply` writing what it recommends.
Images are tagged `lambdakit-test-bench/*` and removed at the end; the baseline's layers stay cached.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdakit import assets, baseimage, bench, docker_engine, template, tune
from lambdakit.settings import BASE_IMAGE_ENV
from tests.assets_fixture import write_assets_tarball

pytestmark = pytest.mark.docker

PREFIX = "lambdakit-test-bench"


@pytest.fixture(scope="module")
def bench_images(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The stand-in base (shared, by tag) and an asset image of the prepared model under this area's name."""
    base = baseimage.build(log=lambda _: None)
    cache_root = model_dir.parents[2]  # <root>/huggingface/exports/<model>
    tarball = write_assets_tarball(
        cache_root, model_dir, tmp_path_factory.mktemp("bench-assets") / "assets.tar"
    )
    asset = assets.build(tarball, repository=f"{PREFIX}-assets", log=None)
    yield base, asset.ref
    ours = ("kit:latest", "baseline:latest", "base:pinned")
    for tag in (*(f"{PREFIX}/{name}" for name in ours), asset.ref, f"{PREFIX}-assets:latest"):
        docker_engine.remove_image(tag)


def test_bench_then_tune_run_end_to_end(
    bench_images: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, asset = bench_images
    monkeypatch.setenv(BASE_IMAGE_ENV, base)
    out = tmp_path / "bench"

    # GIVEN tiny counts WHEN the bench runs both images THEN every figure is there for both sides
    argv = ["--cold-starts", "2", "--invokes", "10", "--push", "kit", "--out", str(out)]
    assert bench.cli([*argv, "--asset-image", asset, "--tag-prefix", PREFIX]) == 0
    results = json.loads((out / "results.json").read_text())
    for side in ("kit", "baseline"):
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
    assert all(value is not None for key, value in results["ratios"].items() if not key.startswith("push"))
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
    limits = template.limits(project)
    assert (limits.memory_mb, limits.timeout_s) == (chosen["memory_mb"], chosen["timeout_s"])
