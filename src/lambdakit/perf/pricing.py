"""AWS Lambda on-demand prices, as constants with their source and date, and the cost of an invoke.

Prices are the first tier in us-east-1; other regions and volume tiers differ, so every report that uses
them names the date and says "estimate". Update the constants (and PRICES_AS_OF) when AWS changes them.
"""

from __future__ import annotations

import math

from lambdakit.core.errors import ConfigError

PRICES_SOURCE = "https://aws.amazon.com/lambda/pricing/ (us-east-1, first tier of duration)"
PRICES_AS_OF = "2026-05-11"  # date of the copy the constants were checked against
PRICE_PER_GB_SECOND = {"x86_64": 0.0000166667, "arm64": 0.0000133334}
PRICE_PER_MILLION_REQUESTS = 0.20
BILLING_GRANULARITY_MS = 1  # Lambda bills duration rounded up to the millisecond (since December 2020)
MB_PER_GB = 1024


def billed_ms(duration_ms: float) -> int:
    """The duration Lambda bills: rounded up to the next whole millisecond, at least 1 ms."""
    if duration_ms < 0:
        raise ConfigError(f"A duration cannot be negative, got {duration_ms} ms.")
    return max(
        BILLING_GRANULARITY_MS, math.ceil(duration_ms / BILLING_GRANULARITY_MS) * BILLING_GRANULARITY_MS
    )


def cost_per_invoke(memory_mb: int, duration_ms: float, architecture: str = "x86_64") -> float:
    """US dollars for one invoke: GB-seconds of the billed duration plus the request charge."""
    if architecture not in PRICE_PER_GB_SECOND:
        raise ConfigError(
            f"No price for architecture {architecture!r}; use one of {sorted(PRICE_PER_GB_SECOND)}."
        )
    gb_seconds = memory_mb / MB_PER_GB * billed_ms(duration_ms) / 1000
    return gb_seconds * PRICE_PER_GB_SECOND[architecture] + PRICE_PER_MILLION_REQUESTS / 1_000_000


def cost_per_million(memory_mb: int, duration_ms: float, architecture: str = "x86_64") -> float:
    """US dollars for one million invokes of DURATION_MS each at MEMORY_MB (no free tier)."""
    return cost_per_invoke(memory_mb, duration_ms, architecture) * 1_000_000
