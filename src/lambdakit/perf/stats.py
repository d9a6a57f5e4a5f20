"""Summary statistics of timing samples for `bench` and `tune`: percentiles, trimming, one summary shape.

Pure functions on plain lists, so every figure the reports print can be checked by hand.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from lambdakit.core.errors import ConfigError


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between ranks (numpy's default method)."""
    if not values:
        raise ConfigError("No samples to take a percentile of; measure at least one invoke.")
    if not 0 <= q <= 100:
        raise ConfigError(f"A percentile must be between 0 and 100, got {q}.")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def trim(values: Sequence[float], fraction: float) -> list[float]:
    """The sorted samples without the lowest and highest FRACTION of them (0.2 drops 20 % at each end).

    The cut is rounded down, and at least one sample always stays, so a short run keeps its data.
    """
    if not 0 <= fraction < 0.5:
        raise ConfigError(f"The trim fraction must be in [0, 0.5), got {fraction}.")
    ordered = sorted(values)
    cut = math.floor(len(ordered) * fraction)
    kept = ordered[cut : len(ordered) - cut]
    return kept or ordered[len(ordered) // 2 : len(ordered) // 2 + 1]


def trimmed_mean(values: Sequence[float], fraction: float) -> float:
    kept = trim(values, fraction)
    if not kept:
        raise ConfigError("No samples to average; measure at least one invoke.")
    return statistics.fmean(kept)


@dataclass(frozen=True)
class Summary:
    """What the reports say about one series of durations (milliseconds)."""

    count: int
    p50: float
    p95: float
    p99: float
    mean: float
    trimmed_mean: float
    minimum: float
    maximum: float

    def as_dict(self) -> dict[str, float | int]:
        return {
            key: round(value, 3) if isinstance(value, float) else value for key, value in asdict(self).items()
        }


def summarise(values: Sequence[float], trim_fraction: float = 0.2) -> Summary:
    if not values:
        raise ConfigError("No samples to summarise; measure at least one invoke.")
    return Summary(
        count=len(values),
        p50=percentile(values, 50),
        p95=percentile(values, 95),
        p99=percentile(values, 99),
        mean=statistics.fmean(values),
        trimmed_mean=trimmed_mean(values, trim_fraction),
        minimum=min(values),
        maximum=max(values),
    )


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, or None when either is unknown or the denominator is zero."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator
