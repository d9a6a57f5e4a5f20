"""Warm invokes: one container per side, a short text and a batch of 8, after a warm-up of each."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from lambdakit.config.target import Target
from lambdakit.perf import measure
from lambdakit.perf.bench.sides import Contender

log = logging.getLogger(__name__)

WARMUP_INVOKES = 10


def phases(invokes: int, single: Any, batch: Any) -> list[measure.Phase]:
    return [
        measure.Phase("cold", single, 1),
        measure.Phase("warmup", single, WARMUP_INVOKES),
        measure.Phase("single", single, invokes),
        measure.Phase("warmup-batch", batch, WARMUP_INVOKES),
        measure.Phase("batch8", batch, invokes),
    ]


def warm_runs(
    contenders: Sequence[Contender],
    limits: Target,
    invokes: int,
    client_image: str,
    events: tuple[Any, Any],
    container_prefix: str,
) -> dict[str, measure.RunResult]:
    """One warm container per side, in order; its thread probe runs after the memory was read."""
    runs: dict[str, measure.RunResult] = {}
    for contender in contenders:
        log.info("warm: %d invokes of one text and %d of a batch of 8, %s", invokes, invokes, contender.name)
        runs[contender.name] = measure.run(
            contender.image,
            limits,
            phases(invokes, *events),
            client_image,
            container_prefix,
            probe=contender.thread_probe,
            environment=contender.environment,
        )
    return runs
