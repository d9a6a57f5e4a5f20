"""SnapStart rows: each side initialised, checkpointed and restored locally (CRIU), alternating like the cold
starts, on the same base and limits; the figure is restore started -> first response.

The client runs its plan as its main process, held by a start file written just before `docker start
--checkpoint` (`lambdakit.runtime.restore`), so the figure holds no `docker exec`, as the cold start holds
none.
Where the engine cannot checkpoint, the rows are left out with the reason as a note.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from lambdakit.config.target import Target
from lambdakit.core.errors import EmulatorFailed
from lambdakit.perf import measure
from lambdakit.perf.bench.results import RestoredStarts
from lambdakit.perf.bench.sides import Contender
from lambdakit.runtime import restore
from lambdakit.runtime.environment import TMP, Function, plan_for

log = logging.getLogger(__name__)

START_FILE = f"{TMP}/lambdakit-restore-started"
# criu drops the namespace's packets while it restores: a connect attempt then would wait for the kernel's
# 1 s SYN retry, so the client tries again every 20 ms instead
CONNECT_TIMEOUT_S = 0.02


def refusal(contenders: Sequence[Contender], limits: Target) -> str | None:
    """Why no side can be restored here (one line), or None."""
    return restore.refusal(Function(contenders[0].image, limits))


def restored_starts(
    contenders: Sequence[Contender],
    limits: Target,
    runs: int,
    client_image: str,
    event: Any,
    container_prefix: str,
) -> dict[str, RestoredStarts]:
    """RUNS restores per side, alternating kit, baseline, kit, ... after one priming restore each."""
    measured: dict[str, list[tuple[float, restore.RestoreTimes]]] = {c.name: [] for c in contenders}
    for contender in contenders:  # not counted: the first start after a build reads the layers from disk
        log.info("priming restore of %s (not counted)", contender.name)
        _restored(contender, limits, client_image, event, container_prefix)
    for round_ in range(1, runs + 1):
        for contender in contenders:
            first_ms, times = _restored(contender, limits, client_image, event, container_prefix)
            measured[contender.name].append((first_ms, times))
            log.info("restore %d/%d %s: %.0f ms to the first answer", round_, runs, contender.name, first_ms)
    return {
        name: RestoredStarts(
            runs=[first for first, _ in found],
            checkpoint_ms=[times.checkpoint_ms for _, times in found],
            restore_ms=[times.restore_ms for _, times in found],
            user=found[-1][1].user,
        )
        for name, found in measured.items()
    }


def _restored(
    contender: Contender, limits: Target, client_image: str, event: Any, container_prefix: str
) -> tuple[float, restore.RestoreTimes]:
    """One fresh environment restored from its own checkpoint: (restore -> first response ms, criu's)."""
    plan = plan_for([{"name": "restored", "event": event, "count": 1}], limits, measure.START_TIMEOUT_S)
    plan["start_file"] = START_FILE
    plan["connect_timeout_s"] = CONNECT_TIMEOUT_S
    labels = {measure.CONTAINER_LABEL: "1"}
    function = Function(contender.image, limits, environment=dict(contender.environment), labels=labels)
    env, times = restore.start(
        function, f"{container_prefix}-restore", say=log.info, plan=plan, client_image=client_image
    )
    with env:
        outcome = env.plan_result(measure.START_TIMEOUT_S + plan["invoke_timeout_s"])
        if "error" in outcome or outcome["phases"][0]["statuses"] != [200]:
            tail = " | ".join(env.logs().strip().splitlines()[-3:])
            why = outcome.get("error") or f"status {outcome['phases'][0]['statuses']}"
            raise EmulatorFailed(f"The restored {contender.name} did not answer ({why}): {tail or 'no log'}")
        return (float(outcome["phases"][0]["first_response_at"]) - env.started) * 1000, times
