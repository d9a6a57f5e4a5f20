"""SnapStart's charges beside the duration cost: caching a version's snapshot and restoring it."""

from __future__ import annotations

import dataclasses

import pytest

from lambdakit.config.target import LAMBDA
from lambdakit.core.errors import ConfigError
from lambdakit.perf import pricing


def test_caching_is_gb_seconds_of_memory_and_billed_at_least_the_minimum() -> None:
    # 1 GB for 10 hours: 36,000 GB-seconds
    assert pricing.snapstart_cache_cost(1024, 10) == pytest.approx(36_000 * 0.0000015046)
    assert pricing.snapstart_cache_cost(1024, 0.5) == pricing.snapstart_cache_cost(1024, 3)  # 3 h minimum
    assert pricing.snapstart_cache_cost(2048, 10, versions=2) == pytest.approx(
        4 * pricing.snapstart_cache_cost(1024, 10)
    )
    assert pricing.snapstart_cache_cost(1024, 10, versions=0) == 0


def test_a_restore_is_gb_of_memory_restored() -> None:
    assert pricing.snapstart_restore_cost(1024) == pytest.approx(0.0001397998)
    assert pricing.snapstart_restore_cost(1769, 1000) == pytest.approx(1769 / 1024 * 0.1397998)


def test_the_shipped_functions_snapstart_costs_a_few_dollars_a_month_and_a_quarter_per_1k_restores() -> None:
    cost = pricing.snapstart_cost(1769)
    assert cost.cache_per_month == pytest.approx(1769 / 1024 * 730 * 3600 * 0.0000015046)
    assert 6 < cost.cache_per_month < 7
    assert 0.2 < cost.per_thousand_restores < 0.25


def test_snapstart_prices_come_from_the_rules_and_negatives_are_refused() -> None:
    doubled = dataclasses.replace(LAMBDA, snapstart_restore_per_gb=2 * LAMBDA.snapstart_restore_per_gb)
    assert pricing.snapstart_restore_cost(1024, rules=doubled) == pytest.approx(
        2 * pricing.snapstart_restore_cost(1024)
    )
    with pytest.raises(ConfigError, match="negative"):
        pricing.snapstart_restore_cost(1024, -1)
    with pytest.raises(ConfigError, match="negative"):
        pricing.snapstart_cache_cost(1024, -1)
