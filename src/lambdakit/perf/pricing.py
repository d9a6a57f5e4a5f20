"""The cost of an invoke, from the target's prices (`lambdakit.config.target`: per GB-second by architecture,
per request, their source and date), and SnapStart's own charges (caching a version's snapshot, restoring it).

Prices are the first tier in us-east-1; other regions and volume tiers differ, so every report that uses
them names the date and says "estimate". Update them (and `prices_as_of`) in config/target.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lambdakit.config.target import LAMBDA, Rules
from lambdakit.core.errors import ConfigError

MB_PER_GB = 1024
HOURS_PER_MONTH = 730  # the month AWS's pricing examples use


@dataclass(frozen=True)
class SnapStartCost:
    """SnapStart's charges at one MemorySize, beside the duration cost (restored environments pay it too)."""

    cache_per_month: float  # one published version kept active for a month
    per_thousand_restores: float  # a restore is each new execution environment: the cold starts it replaces


def billed_ms(duration_ms: float, rules: Rules = LAMBDA) -> int:
    """The duration Lambda bills: rounded up to the next whole millisecond, at least 1 ms."""
    if duration_ms < 0:
        raise ConfigError(f"A duration cannot be negative, got {duration_ms} ms.")
    step = rules.billing_granularity_ms
    return max(step, math.ceil(duration_ms / step) * step)


def cost_per_invoke(
    memory_mb: int, duration_ms: float, architecture: str = "x86_64", rules: Rules = LAMBDA
) -> float:
    """US dollars for one invoke: GB-seconds of the billed duration plus the request charge."""
    if architecture not in rules.price_per_gb_second:
        raise ConfigError(
            f"No price for architecture {architecture!r}; use one of {sorted(rules.price_per_gb_second)}."
        )
    gb_seconds = memory_mb / MB_PER_GB * billed_ms(duration_ms, rules) / 1000
    return gb_seconds * rules.price_per_gb_second[architecture] + rules.price_per_million_requests / 1_000_000


def cost_per_million(
    memory_mb: int, duration_ms: float, architecture: str = "x86_64", rules: Rules = LAMBDA
) -> float:
    """US dollars for one million invokes of DURATION_MS each at MEMORY_MB (no free tier)."""
    return cost_per_invoke(memory_mb, duration_ms, architecture, rules) * 1_000_000


def snapstart_cache_cost(memory_mb: int, hours: float, versions: int = 1, rules: Rules = LAMBDA) -> float:
    """US dollars for caching VERSIONS published SnapStart versions for HOURS (each billed at least the
    minimum): GB-seconds of MemorySize times the cache price."""
    if hours < 0 or versions < 0:
        raise ConfigError(f"Hours and versions cannot be negative, got {hours} h and {versions} versions.")
    billed_s = max(hours, rules.snapstart_min_cache_hours) * 3600 if versions else 0.0
    return versions * memory_mb / MB_PER_GB * billed_s * rules.snapstart_cache_per_gb_second


def snapstart_restore_cost(memory_mb: int, restores: int = 1, rules: Rules = LAMBDA) -> float:
    """US dollars for RESTORES restores of a SnapStart version: GB of MemorySize restored times the price."""
    if restores < 0:
        raise ConfigError(f"Restores cannot be negative, got {restores}.")
    return restores * memory_mb / MB_PER_GB * rules.snapstart_restore_per_gb


def snapstart_cost(memory_mb: int, rules: Rules = LAMBDA) -> SnapStartCost:
    """SnapStart's charges at MEMORY_MB: a month of one cached version, a thousand restores."""
    return SnapStartCost(
        cache_per_month=snapstart_cache_cost(memory_mb, HOURS_PER_MONTH, rules=rules),
        per_thousand_restores=snapstart_restore_cost(memory_mb, 1000, rules),
    )
