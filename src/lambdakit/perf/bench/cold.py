"""Cold starts: fresh containers alternating between the sides, each one's breakdown, and the floor."""

from __future__ import annotations

import logging
import statistics
from collections.abc import Sequence
from typing import Any

from lambdakit.config.target import Target
from lambdakit.core.settings import build_dir
from lambdakit.images import engine
from lambdakit.perf import breakdown, measure
from lambdakit.perf.bench.sides import Contender

log = logging.getLogger(__name__)


def cold_starts(
    contenders: Sequence[Contender],
    limits: Target,
    runs: int,
    client_image: str,
    event: Any,
    container_prefix: str,
) -> dict[str, list[measure.RunResult]]:
    """RUNS cold starts per side, alternating kit, baseline, kit, ... so a busy moment hits both."""
    results: dict[str, list[measure.RunResult]] = {c.name: [] for c in contenders}
    for contender in contenders:  # not counted: the first start after a build reads the layers from disk
        log.info("priming run of %s (not counted)", contender.name)
        _cold_start(contender.image, limits, client_image, event, container_prefix, contender.environment)
    for round_ in range(1, runs + 1):
        for contender in contenders:
            run = _cold_start(
                contender.image, limits, client_image, event, container_prefix, contender.environment
            )
            results[contender.name].append(run)
            log.info("cold start %d/%d %s: %.0f ms", round_, runs, contender.name, run.cold_start_ms)
    return results


def breakdowns(
    contenders: Sequence[Contender], limits: Target, client_image: str, event: Any, container_prefix: str
) -> dict[str, breakdown.Breakdown | None]:
    """One more cold start per side, with Python's import profile in the log, cut into its parts."""
    parts: dict[str, breakdown.Breakdown | None] = {}
    for contender in contenders:
        log.info("cold start with -X importtime (for its breakdown, not counted), %s", contender.name)
        environment = {**contender.environment, **breakdown.IMPORTTIME_ENV}
        run = _cold_start(contender.image, limits, client_image, event, container_prefix, environment)
        parts[contender.name] = (
            None  # the log lacks what the breakdown needs
            if run.init_report_ms is None
            else breakdown.breakdown(run.cold_start_ms, run.init_report_ms, run.log)
        )
    return parts


def floor(base: str, limits: Target, runs: int, prefix: str, container_prefix: str) -> float:
    """Median cold start of an empty handler on BASE, measured like the sides: the floor."""
    tag = f"{prefix}/floor:latest"
    log.info("docker build %s (an empty handler on %s), then %d cold starts", tag, base, runs)
    engine.build(breakdown.stage_floor(build_dir() / "bench" / "floor"), tag, buildargs={"BASE_IMAGE": base})
    # one priming run first, not counted, as for the sides: the first start after a build reads from disk
    cold = [_cold_start(tag, limits, base, {}, container_prefix) for _ in range(runs + 1)]
    return statistics.median(run.cold_start_ms for run in cold[1:])


def _cold_start(
    image: str,
    limits: Target,
    client_image: str,
    event: Any,
    container_prefix: str,
    environment: dict[str, str] | None = None,
) -> measure.RunResult:
    phases = [measure.Phase("cold", event, 1)]
    return measure.run(image, limits, phases, client_image, container_prefix, environment=environment)
