"""Sides against each other: ratios, the issue's targets, label parity and int8's accuracy."""

from __future__ import annotations

import json
from typing import Any

from lambdakit.perf import quantized, stats
from lambdakit.perf.bench.results import Goal, Parity, Ratios, Side

# issue 14's bar (cold start at the floor): <= 0.07 x the baseline and <= 250 ms at 1 vCPU, in the same run
TARGETS = {
    "cold_start_ratio": 0.07,
    "cold_start_ms": 250.0,
    "warm_single_p50_ms": 5.0,
    "image_above_base_ratio": 0.25,
    "code_push_bytes": 100 * 1024,
}
# issue 21 §4: restored from a snapshot, the torch baseline answers in <= 0.1 x its own cold start, and the
# kit no later than an empty handler's cold start (the floor)
SNAPSTART_BASELINE_RATIO = 0.1


def ratios(side: Side, other: Side | None) -> Ratios:
    """SIDE's figures over OTHER's; all None without another side (a function other than the demo)."""
    if other is None:
        return Ratios()
    return Ratios(
        cold_start=_ratio(side.cold.median, other.cold.median),
        warm_single_p50=_ratio(side.warm_ms("single"), other.warm_ms("single")),
        warm_batch8_p50=_ratio(side.warm_ms("batch8"), other.warm_ms("batch8")),
        peak_memory=_ratio(side.peak_memory_mb, other.peak_memory_mb),
        image_total=_ratio(side.image.total_bytes, other.image.total_bytes),
        image_above_base=_ratio(side.image.above_base_bytes, other.image.above_base_bytes),
        push_code_only=_ratio(side.push_bytes("code_only"), other.push_bytes("code_only")),
        push_dependency_only=_ratio(side.push_bytes("dependency_only"), other.push_bytes("dependency_only")),
        snapstart_restored=_ratio(
            side.restored.median if side.restored else None, other.restored.median if other.restored else None
        ),
    )


def targets(side: Side, ratio: Ratios) -> list[Goal]:
    """Each target of the issue with the measured value and whether it is met (None: not measured)."""
    cold_ratio = TARGETS["cold_start_ratio"]
    rows: list[tuple[str, float | None, float]] = [
        (f"cold start ≤ {cold_ratio} x baseline", ratio.cold_start, cold_ratio),
        (f"cold start ≤ {TARGETS['cold_start_ms']:.0f} ms", side.cold.median, TARGETS["cold_start_ms"]),
        ("warm p50, one short text ≤ 5 ms", side.warm_ms("single"), TARGETS["warm_single_p50_ms"]),
        ("image above base ≤ 0.25 x baseline", ratio.image_above_base, TARGETS["image_above_base_ratio"]),
        ("code-only push ≤ 100 KB", side.push_bytes("code_only"), TARGETS["code_push_bytes"]),
    ]
    result = [
        Goal(name, value, limit, None if value is None else value <= limit) for name, value, limit in rows
    ]
    weights = side.push.weights_reuploaded if side.push else []
    result.append(
        Goal(
            "asset layer not re-uploaded when the weights did not change",
            weights or None,
            False,
            (not any(weights)) if weights and None not in weights else None,
        )
    )
    return result


def snapstart_targets(kit: Side, baseline: Side | None, floor_ms: float | None) -> list[Goal]:
    """Issue 21's two restore targets; empty when no restore was measured (the engine cannot checkpoint)."""
    if kit.restored is None:
        return []
    floor = "—" if floor_ms is None else f"{floor_ms:.0f}"
    rows: list[tuple[str, float | None, float | None]] = [
        (
            f"kit restored ≤ the empty handler's cold start ({floor} ms)",
            kit.restored.median,
            floor_ms,
        ),
    ]
    if baseline is not None:
        ratio = baseline.restored_to_cold
        rows.insert(
            0,
            (
                f"baseline restored ≤ {SNAPSTART_BASELINE_RATIO} x its cold start",
                None if ratio is None else round(ratio, 4),
                SNAPSTART_BASELINE_RATIO,
            ),
        )
    return [
        Goal(name, value, limit if limit is not None else False, _met(value, limit))
        for name, value, limit in rows
    ]


def _met(value: float | None, limit: float | None) -> bool | None:
    return None if value is None or limit is None else value <= limit


def same_labels(warm_bodies: dict[str, dict[str, str | None]]) -> Parity:
    """Do the sides give the same label for every bench text? (They run the same pipeline.)"""
    labels = {side: labels_of(bodies) for side, bodies in warm_bodies.items()}
    values = list(labels.values())
    return Parity(labels=labels, same=all(v == values[0] for v in values[1:]))


def labels_of(bodies: dict[str, str | None]) -> list[str]:
    """The label of each bench text, in order, from the first response of each warm phase."""
    found: list[str] = []
    for body in bodies.values():
        answer = json.loads(body or "{}")
        found += [item.get("label", "?") for item in answer.get("results", [answer])]
    return found


def int8_accuracy(manifest: dict[str, Any], fp32: list[str], int8: list[str]) -> dict[str, Any]:
    """What int8 costs in accuracy: prepare's comparison with fp32 (from the shipped manifest) and the two
    containers' labels on the bench texts."""
    return {"prepare_vs_fp32": manifest, "bench_texts_vs_fp32": quantized.label_agreement(fp32, int8)}


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    value = stats.ratio(numerator, denominator)
    return round(value, 4) if value is not None else None
