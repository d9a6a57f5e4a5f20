"""Statistics behind `bench` and `tune`: percentiles, trimming, summaries; and the emulator log parsing."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambdakit.core.errors import ConfigError
from lambdakit.perf import measure, stats

samples = st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=300)


@given(samples, st.floats(min_value=0, max_value=100))
def test_percentile_matches_numpy_linear_interpolation(values: list[float], q: float) -> None:
    assert math.isclose(
        stats.percentile(values, q), float(np.percentile(values, q)), rel_tol=1e-9, abs_tol=1e-9
    )


def test_percentiles_of_one_to_hundred() -> None:
    values = [float(v) for v in range(1, 101)]
    assert stats.percentile(values, 50) == pytest.approx(50.5)
    assert stats.percentile(values, 99) == pytest.approx(99.01)
    assert stats.percentile(values, 0) == 1.0
    assert stats.percentile(values, 100) == 100.0


def test_percentile_refuses_empty_input_and_bad_q() -> None:
    with pytest.raises(ConfigError, match="No samples"):
        stats.percentile([], 50)
    with pytest.raises(ConfigError, match="between 0 and 100"):
        stats.percentile([1.0], 101)


def test_trim_drops_twenty_percent_at_each_end() -> None:
    values = [100.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 0.0]  # ten samples: two cut at each end
    assert stats.trim(values, 0.2) == [2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    assert stats.trimmed_mean(values, 0.2) == pytest.approx(4.5)


def test_trimming_ignores_outliers_that_move_the_mean() -> None:
    values = [10.0] * 18 + [1000.0, 5000.0]
    assert stats.trimmed_mean(values, 0.2) == 10.0
    assert stats.summarise(values).mean > 100


def test_trim_keeps_a_sample_of_short_series() -> None:
    assert stats.trim([3.0], 0.2) == [3.0]
    assert stats.trim([5.0, 1.0], 0.49) == [1.0, 5.0]  # floor(2 * 0.49) = 0 cut


def test_trim_fraction_must_leave_the_middle() -> None:
    with pytest.raises(ConfigError, match="trim fraction"):
        stats.trim([1.0, 2.0], 0.5)


def test_summary_reports_every_figure() -> None:
    summary = stats.summarise([float(v) for v in range(1, 11)])
    assert (summary.count, summary.minimum, summary.maximum) == (10, 1.0, 10.0)
    assert summary.p50 == pytest.approx(5.5)
    assert summary.trimmed_mean == pytest.approx(5.5)
    assert set(summary.as_dict()) == {
        "count",
        "p50",
        "p95",
        "p99",
        "mean",
        "trimmed_mean",
        "minimum",
        "maximum",
    }


def test_ratio_is_none_when_unknown_or_zero() -> None:
    assert stats.ratio(1.0, 4.0) == 0.25
    assert stats.ratio(None, 4.0) is None
    assert stats.ratio(1.0, 0.0) is None


# --- the emulator's log, as the RIE of aws-sam-cli prints it ---

RIE_LOG = (
    "24 Nov 2026 05:37:31,434 [INFO] (rapid) INIT RTDONE(status: success)\n"
    "24 Nov 2026 05:37:31,434 [INFO] (rapid) INIT REPORT(durationMs: 1225.632000)\n"
    "END RequestId: 2ed3c750\n"
    "REPORT RequestId: 2ed3c750\tInit Duration: 0.07 ms\tDuration: 1239.07 ms\tBilled Duration: 1240 ms\t"
    "Memory Size: 1769 MB\tMax Memory Used: 1769 MB\t\n"
    "START RequestId: 544ab7e1 Version: $LATEST\n"
    "REPORT RequestId: 2e9906ad\tDuration: 9.02 ms\tBilled Duration: 10 ms\tMemory Size: 1769 MB\t\n"
    "REPORT RequestId: 4cf229b7\tDuration: 8.50 ms\tBilled Duration: 9 ms\tMemory Size: 1769 MB\t\n"
)


def test_init_report_is_the_real_init_duration() -> None:
    assert measure.parse_init_report(RIE_LOG) == pytest.approx(1225.632)
    assert measure.parse_init_report("no init here") is None


def test_report_lines_give_duration_and_the_lazy_init_duration() -> None:
    assert measure.parse_reports(RIE_LOG) == [(1239.07, 0.07), (9.02, None), (8.5, None)]


def test_durations_split_into_phases_only_when_counts_add_up() -> None:
    assert measure.split_durations([1.0, 2.0, 3.0], [1, 2]) == [[1.0], [2.0, 3.0]]
    assert measure.split_durations([1.0, 2.0], [1, 2]) == [[], []]


def test_cpus_follow_memory_but_never_exceed_the_host() -> None:
    from lambdakit.config.template import Limits

    assert measure.effective_cpus(Limits(1769, 30, 512), host_cpus=2) == 1.0
    assert measure.effective_cpus(Limits(512, 30, 512), host_cpus=2) == pytest.approx(0.289, abs=1e-3)
    assert measure.effective_cpus(Limits(10240, 30, 512), host_cpus=2) == 2.0


def test_function_container_is_faithful_but_shares_the_clients_loopback() -> None:
    from lambdakit.config.template import Limits

    options = measure.function_run_kwargs("img", Limits(1024, 30, 512), 0.579, "client-id", "fn")
    assert options["network_mode"] == "container:client-id"
    assert options["read_only"] is True
    assert options["mem_limit"] == options["memswap_limit"] == "1024m"
    assert options["nano_cpus"] == 579_000_000
    assert options["user"] != "root" and not str(options["user"]).startswith("0:")
    assert options["environment"]["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "1024"
