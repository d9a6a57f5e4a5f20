"""`tune`: cost math, the three strategies, the Timeout rule, and `--apply` on template.yaml."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from rich.console import Console

from lambdakit.config import template
from lambdakit.config.target import LAMBDA
from lambdakit.core import config as project_config
from lambdakit.core.errors import ConfigError
from lambdakit.perf import pricing, tune

DEFAULTS = project_config.ProjectConfig()  # no pyproject.toml beside these templates: the defaults

REPO = Path(__file__).resolve().parents[3]


# --- cost ---


def test_billed_duration_rounds_up_to_the_millisecond() -> None:
    assert pricing.billed_ms(4.01) == 5
    assert pricing.billed_ms(5.0) == 5
    assert pricing.billed_ms(0.2) == 1


def test_cost_of_one_invoke_is_gb_seconds_times_price_plus_request() -> None:
    # 1024 MB for 100 ms = 0.1 GB-s
    expected = 0.1 * LAMBDA.price_per_gb_second["x86_64"] + 0.20 / 1_000_000
    assert pricing.cost_per_invoke(1024, 100.0) == pytest.approx(expected)


def test_a_million_invokes_of_a_known_function() -> None:
    # 512 MB x 300 ms = 0.15 GB-s per invoke; 150 000 GB-s for a million, plus $0.20 of requests
    assert pricing.cost_per_million(512, 300.0, "x86_64") == pytest.approx(150_000 * 0.0000166667 + 0.20)
    assert pricing.cost_per_million(512, 300.0, "arm64") == pytest.approx(150_000 * 0.0000133334 + 0.20)


def test_arm64_is_cheaper_for_the_same_duration() -> None:
    assert pricing.cost_per_million(1769, 10.0, "arm64") < pricing.cost_per_million(1769, 10.0, "x86_64")


def test_unknown_architecture_is_refused() -> None:
    with pytest.raises(ConfigError, match="architecture"):
        pricing.cost_per_invoke(1024, 1.0, "riscv")


def test_prices_name_their_source_and_date() -> None:
    assert LAMBDA.prices_source.startswith("https://aws.amazon.com/lambda/pricing")
    assert len(LAMBDA.prices_as_of) == 10


# --- strategies ---


def point(
    memory_mb: int, duration_ms: float, cold_ms: float = 400.0, p99_ms: float | None = None
) -> tune.Point:
    durations = [duration_ms] * 10 if p99_ms is None else [duration_ms] * 9 + [p99_ms]
    return tune.point_from(memory_mb, memory_mb / 1769, durations, [cold_ms])


# A CPU-bound function: twice the memory runs in a bit less than half the time up to 1769 MB, then flattens.
CURVE = [point(512, 40.0), point(1024, 19.0), point(1769, 11.0), point(3008, 10.5)]


def test_cost_strategy_picks_the_cheapest_size() -> None:
    costs = {p.memory_mb: p.cost_per_million["x86_64"] for p in CURVE}
    assert tune.recommend(CURVE, "cost").memory_mb == min(costs, key=lambda m: costs[m]) == 1024


def test_speed_strategy_picks_the_fastest_size() -> None:
    assert tune.recommend(CURVE, "speed").memory_mb == 3008


def test_balanced_strategy_weighs_cost_and_duration() -> None:
    assert tune.recommend(CURVE, "balanced").memory_mb == 1769
    assert (
        tune.recommend(CURVE, "balanced", balanced_weight=1.0).memory_mb
        == tune.recommend(CURVE, "cost").memory_mb
    )
    assert tune.recommend(CURVE, "balanced", balanced_weight=0.0).memory_mb == 3008


def test_equal_scores_go_to_the_smaller_size() -> None:
    flat = [point(1024, 10.0), point(512, 10.0)]
    assert tune.recommend(flat, "speed").memory_mb == 512


def test_strategy_arguments_are_checked() -> None:
    with pytest.raises(ConfigError, match="Unknown strategy"):
        tune.recommend(CURVE, "fastest")
    with pytest.raises(ConfigError, match="No MemorySize"):
        tune.recommend([], "cost")
    with pytest.raises(ConfigError, match="weight"):
        tune.recommend(CURVE, "balanced", balanced_weight=1.5)


def test_point_uses_the_trimmed_mean_for_cost_and_the_raw_p99() -> None:
    durations = [10.0] * 18 + [500.0, 900.0]
    measured = tune.point_from(1024, 0.58, durations, [300.0, 500.0, 400.0])
    assert measured.duration_ms == 10.0
    assert measured.p99_ms > 500
    assert measured.cold_start_ms == 400.0
    assert measured.cost_per_million["x86_64"] == pytest.approx(pricing.cost_per_million(1024, 10.0))


# --- Timeout ---


def test_timeout_is_p99_times_safety_rounded_up_to_seconds() -> None:
    assert tune.timeout_seconds(p99_ms=1200.0, cold_start_ms=300.0, safety=3) == 4


def test_timeout_is_at_least_the_cold_start() -> None:
    assert tune.timeout_seconds(p99_ms=10.0, cold_start_ms=4200.0, safety=3) == 5


def test_timeout_stays_within_lambdas_limits() -> None:
    assert tune.timeout_seconds(p99_ms=1.0, cold_start_ms=1.0, safety=2) == 1
    assert tune.timeout_seconds(p99_ms=600_000.0, cold_start_ms=1.0, safety=3) == 900


def test_safety_below_one_is_refused() -> None:
    with pytest.raises(ConfigError, match="safety"):
        tune.timeout_seconds(100.0, 100.0, safety=0.5)


# --- --apply ---

COMMENTED = """\
# A template with comments everywhere --apply must keep.
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Description: >-
  A folded description that is longer than eighty characters, so a careless dump would re-wrap it somewhere.

Globals:
  Function:
    Timeout: 30   # seconds
    MemorySize: 1769  # 1 full vCPU
    EphemeralStorage:
      Size: 512

Resources:
  InferenceFunction:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
      Architectures:
        - x86_64  # the bench's baseline needs x86_64
    Metadata:
      Dockerfile: Dockerfile
      DockerContext: .
      DockerBuildArgs:
        BASE_IMAGE: !Ref BaseImage
"""


def test_apply_changes_only_memory_and_timeout_lines(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(COMMENTED)
    changed = tune.apply(path, 1024, 3)
    after = path.read_text()
    assert changed == ["-    Timeout: 30   # seconds", "-    MemorySize: 1769  # 1 full vCPU",
                       "+    Timeout: 3    # seconds", "+    MemorySize: 1024  # 1 full vCPU"]  # fmt: skip
    assert after == COMMENTED.replace("Timeout: 30 ", "Timeout: 3  ").replace(
        "MemorySize: 1769", "MemorySize: 1024"
    )


def test_apply_round_trip_is_read_back_by_the_kit(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    shutil.copyfile(REPO / "template.yaml", path)
    before = path.read_text()
    tune.apply(path, 3008, 7)
    limits = template.load(path, project=DEFAULTS).target
    assert (limits.memory_mb, limits.timeout_s) == (3008, 7)
    removed = [line for line in before.splitlines() if line not in path.read_text().splitlines()]
    assert all(line.strip().startswith(("MemorySize:", "Timeout:")) for line in removed)
    assert [line for line in before.splitlines() if line.lstrip().startswith("#")] == [
        line for line in path.read_text().splitlines() if line.lstrip().startswith("#")
    ]


def test_apply_writes_into_the_functions_own_properties_when_set_there(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(
        COMMENTED.replace("      PackageType: Image\n", "      PackageType: Image\n      MemorySize: 2048\n")
    )
    tune.apply(path, 512, 2)
    text = path.read_text()
    assert "      MemorySize: 512\n" in text  # the resource's own value, which wins over Globals
    assert "    MemorySize: 1769  # 1 full vCPU\n" in text
    assert template.load(path, project=DEFAULTS).target.memory_mb == 512


def test_apply_twice_changes_nothing_the_second_time(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(COMMENTED)
    tune.apply(path, 1024, 3)
    assert tune.apply(path, 1024, 3) == []


def test_apply_refuses_values_lambda_would_refuse(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(COMMENTED)
    with pytest.raises(ConfigError, match="MemorySize"):
        tune.apply(path, 64, 3)
    with pytest.raises(ConfigError, match="Timeout"):
        tune.apply(path, 1024, 901)
    assert path.read_text() == COMMENTED


def test_results_document_has_a_recommendation_and_timeout_per_strategy() -> None:
    document = tune.results_document(CURVE, "x86_64", 3.0, 0.5, "img", {"text": "hi"}, 10, 2)
    assert set(document["recommendations"]) == {"cost", "speed", "balanced"}
    assert document["recommendations"]["speed"]["memory_mb"] == 3008
    assert all(choice["timeout_s"] >= 1 for choice in document["recommendations"].values())
    assert document["prices"]["as_of"] == LAMBDA.prices_as_of
    assert any("cannot stand for Lambda" in warning for warning in document["warnings"])


def test_snapstart_costs_show_beside_the_duration_cost_only_when_it_is_on() -> None:
    off = tune.results_document(CURVE, "x86_64", 3.0, 0.5, "img", {"text": "hi"}, 10, 2)
    on = tune.results_document(CURVE, "x86_64", 3.0, 0.5, "img", {"text": "hi"}, 10, 2, snapstart=True)
    assert "snapstart" not in off
    per_size = on["snapstart"]["per_memory_mb"]
    assert set(per_size) == {str(p.memory_mb) for p in CURVE}
    restores = per_size["1024"]["per_thousand_restores"]
    assert restores == pytest.approx(pricing.snapstart_restore_cost(1024, 1000))
    assert on["recommendations"] == off["recommendations"]  # traffic-dependent: not folded into the choice
    shown = {}
    for name, document in (("off", off), ("on", on)):
        output = io.StringIO()
        tune.print_results(document, Console(file=output, width=250))
        shown[name] = output.getvalue()
    assert "restores" not in shown["off"] and "SnapStart" not in shown["off"]
    assert "$/1k restores" in shown["on"] and "per GB restored" in shown["on"]
    assert f"{per_size['1024']['cache_per_month']:.2f}" in shown["on"]


def test_plot_is_written_as_png(tmp_path: Path) -> None:
    target = tune.plot(CURVE, "x86_64", tmp_path / "tune.png")
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_capped_cpu_warning_appears_only_when_a_size_was_capped() -> None:
    assert (
        tune.CAPPED_WARNING
        not in tune.results_document(CURVE, "x86_64", 3.0, 0.5, "i", {}, 10, 1)["warnings"]
    )
    capped = [*CURVE, tune.point_from(10240, 2.0, [3.0] * 10, [400.0])]  # a 2-core host gives 2, not 5.8
    assert (
        tune.CAPPED_WARNING in tune.results_document(capped, "x86_64", 3.0, 0.5, "i", {}, 10, 1)["warnings"]
    )


def test_the_default_event_is_single_json_else_the_projects_first(tmp_path: Path) -> None:
    (tmp_path / "b.json").write_text("{}")
    (tmp_path / "a.json").write_text("{}")
    assert tune.default_event(tmp_path / "single.json") == tmp_path / "a.json"
    (tmp_path / "single.json").write_text("{}")
    assert tune.default_event(tmp_path / "single.json") == tmp_path / "single.json"
