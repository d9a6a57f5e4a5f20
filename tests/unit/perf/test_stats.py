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


def test_durations_split_into_phases_only_when_counts_add_up() -> None:
    assert measure.split_durations([1.0, 2.0, 3.0], [1, 2]) == [[1.0], [2.0, 3.0]]
    assert measure.split_durations([1.0, 2.0], [1, 2]) == [[], []]
