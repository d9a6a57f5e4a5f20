"""The cost of an invoke, from the target's prices (`lambdakit.config.target`: per GB-second by architecture,
per request, their source and date).

Prices are the first tier in us-east-1; other regions and volume tiers differ, so every report that uses
them names the date and says "estimate". Update them (and `prices_as_of`) in config/target.py.
"""

from __future__ import annotations

import math

from lambdakit.config.target import LAMBDA, Rules
from lambdakit.core.errors import ConfigError

MB_PER_GB = 1024


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
