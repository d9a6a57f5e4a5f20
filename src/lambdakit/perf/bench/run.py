"""The bench's run (`commands/bench.py` is its command): the kit's function beside the usual torch approach.

The run in order: build the sides (sides), cold starts and their breakdown (cold), SnapStart restores where
the engine can checkpoint (restored), warm invokes (warm), the floor (cold), push costs (pushes); then the
comparison (compare) and the files (report, results).
"""

from __future__ import annotations

import datetime
import logging
import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lambdakit.config.target import Target
from lambdakit.config.template import Template
from lambdakit.core.config import ProjectConfig
from lambdakit.images import engine
from lambdakit.perf import breakdown, measure, quantized
from lambdakit.perf.bench import cold, compare, pushes, restored, results, sides, warm
from lambdakit.perf.bench.results import BASELINE, KIT, KIT_INT8, BenchResults, Side

log = logging.getLogger(__name__)

NOISE_NOTE = (
    "Local figures: this machine's CPU, Docker and the emulator stand in for Lambda's; other "
    "containers sharing the cores make them noisy. Compare the two columns, not absolute values."
)
DURATION_NOTE = (
    "Warm durations are the emulator's REPORT Duration (what Lambda bills); the "
    "client's round trip through the emulator is in results.json beside them."
)
SNAPSTART_NOTE = (
    "SnapStart rows: each side restored locally from a CRIU checkpoint of its initialised environment "
    "(`docker checkpoint`), restore started -> first response. Lambda's own restore also fetches the "
    "snapshot from its cache (lazily, in chunks), which this does not show; and docker's restore reads every "
    "page back before the function runs: compare a side's restore with its own cold start, not with Lambda's."
)
INT8_NOTE = (
    "kit int8 is not pushed: its dependency and code layers are the kit's own (same digests), only "
    "the weights layer differs. Its accuracy: prepare's comparison with fp32 (from the manifest in "
    "the image) and the labels both containers gave for the bench texts."
)


@dataclass(frozen=True)
class Measured:
    """What the measuring steps return, before the sides are compared."""

    sides: dict[str, Side]
    bodies: dict[str, dict[str, str | None]]  # each side's first answer per warm phase
    breakdowns: dict[str, breakdown.Breakdown | None]
    floor_ms: float
    cpus: float | None  # the CPU share the kit's containers got
    restored: dict[str, results.RestoredStarts]  # empty where the engine cannot checkpoint
    restore_note: str


def run_bench(
    project: ProjectConfig,
    tpl: Template,
    limits: Target,
    cold_starts: int,
    invokes: int,
    push: str,
    prefix: str = sides.TAG_PREFIX,
    asset: str | None = None,
    quantize: bool = False,
    int8_asset: str | None = None,
    snapstart: bool = True,
) -> BenchResults:
    """Build the sides on one pinned base (the project's), measure them alike under LIMITS (TPL's target, or
    another MemorySize), and compare them."""
    base = sides.pin_base(project.base_image, prefix)
    contenders = sides.build_contenders(project, tpl, base, prefix, asset, quantize, int8_asset)
    single, batch = sides.bench_events(demo=any(c.name == BASELINE for c in contenders))
    settings = results.Settings(cold_starts, invokes, warm.WARMUP_INVOKES, push, single, batch)
    measured = measure_sides(contenders, limits, settings, base, prefix, project.container_prefix, snapstart)
    return compare_sides(measured, contenders, limits, settings)


def measure_sides(
    contenders: Sequence[sides.Contender],
    limits: Target,
    settings: results.Settings,
    base: str,
    prefix: str,
    container_prefix: str,
    snapstart: bool = True,
) -> Measured:
    """Sizes, cold starts, breakdowns, SnapStart restores, warm runs, the floor and the pushes, in that
    order; the containers are named under CONTAINER_PREFIX (the project's), the images under PREFIX (the
    bench's)."""
    events = (settings.single_event, settings.batch_event)
    sizes = {c.name: sides.image_sizes(c) for c in contenders}
    cold_runs = cold.cold_starts(contenders, limits, settings.cold_starts, base, events[0], container_prefix)
    parts = cold.breakdowns(contenders, limits, base, events[0], container_prefix)
    why = restored.refusal(contenders, limits) if snapstart else "left out (--no-snapstart)"
    restores = (
        {}
        if why
        else restored.restored_starts(
            contenders, limits, settings.cold_starts, base, events[0], container_prefix
        )
    )
    warm_runs = warm.warm_runs(contenders, limits, settings.invokes, base, events, container_prefix)
    floor_ms = cold.floor(base, limits, settings.cold_starts, prefix, container_prefix)
    pushed_for = [c for c in contenders if c.name in pushes.pushed_sides(settings.push)]
    base_layers = {name: size.base_layers for name, size in sizes.items()}
    push_costs = pushes.measure_pushes(pushed_for, base_layers) if pushed_for else {}
    return Measured(
        sides={
            c.name: side_of(
                c.image,
                cold_runs[c.name],
                warm_runs[c.name],
                sizes[c.name],
                push_costs.get(c.name),
                restores.get(c.name),
            )
            for c in contenders
        },
        bodies={
            name: {phase: run.phases[phase].first_body for phase in results.WARM_PHASES}
            for name, run in warm_runs.items()
        },
        breakdowns=parts,
        floor_ms=floor_ms,
        cpus=cold_runs[KIT][0].cpus if cold_runs[KIT] else None,
        restored=restores,
        restore_note=SNAPSTART_NOTE if not why else f"SnapStart rows not measured: {why}.",
    )


def compare_sides(
    measured: Measured, contenders: Sequence[sides.Contender], limits: Target, settings: results.Settings
) -> BenchResults:
    """Ratios, targets and label parity of the kit against the baseline, and the int8 column."""
    kit, baseline_side = measured.sides[KIT], measured.sides.get(BASELINE)
    bodies = {name: found for name, found in measured.bodies.items() if name != KIT_INT8}
    ratio = compare.ratios(kit, baseline_side)
    outcome = BenchResults(
        generated_at=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        machine=machine_info(),
        base_image=next(c.base for c in contenders if c.name == KIT),
        baseline_base_image=next((c.base for c in contenders if c.name == BASELINE), None),
        limits=results.RunLimits(limits.memory_mb, limits.timeout_s, measured.cpus or limits.cpus),
        settings=settings,
        kit=kit,
        baseline=baseline_side,
        ratios=ratio,
        floor_cold_start_ms=measured.floor_ms,
        breakdowns=measured.breakdowns,
        parity=compare.same_labels(bodies) if baseline_side is not None else None,
        notes=[NOISE_NOTE, DURATION_NOTE],
        targets=compare.targets(kit, ratio),
        snapstart_targets=compare.snapstart_targets(kit, baseline_side, measured.floor_ms),
    )
    outcome.notes.append(measured.restore_note)
    if outcome.parity is not None and not outcome.parity.same:
        outcome.notes.append("The two sides disagree on some labels: check the baseline handler.")
    if KIT_INT8 in measured.sides:
        fp32, int8 = (compare.labels_of(measured.bodies[name]) for name in (KIT, KIT_INT8))
        outcome.int8 = int8_column(measured.sides[KIT_INT8], outcome, fp32, int8)
        outcome.notes.append(INT8_NOTE)
    return outcome


def side_of(
    image: str,
    cold_runs: Sequence[measure.RunResult],
    warm_run: measure.RunResult,
    sizes: results.ImageSizes,
    push: results.PushCost | None,
    restored_starts: results.RestoredStarts | None = None,
) -> Side:
    return Side(
        image_tag=image,
        cold=results.ColdStarts.of(cold_runs),
        warm={phase: results.WarmPhase.of(warm_run.phases[phase]) for phase in results.WARM_PHASES},
        peak_memory_mb=warm_run.peak_memory_mb,
        rss_mb=warm_run.rss_mb,
        threads=warm_run.probe_output,
        notes=warm_run.notes,
        image=sizes,
        push=push,
        restored=restored_starts,
    )


def int8_column(side: Side, outcome: BenchResults, fp32: list[str], int8: list[str]) -> results.Int8Column:
    """The int8 column: its figures, its ratios to the baseline and to the kit, its accuracy, its targets."""
    to_baseline = compare.ratios(side, outcome.baseline)
    return results.Int8Column(
        side=side,
        ratios=to_baseline,
        ratios_to_kit=compare.ratios(side, outcome.kit),
        accuracy=compare.int8_accuracy(quantized.read_accuracy(side.image_tag), fp32, int8),
        targets=compare.targets(side, to_baseline),
    )


def machine_info() -> results.Machine:
    info = engine.client().info()
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    return results.Machine(
        cpu=cpu,
        cores=os.cpu_count(),
        engine_cpus=info.get("NCPU"),
        memory_gb=round(int(info.get("MemTotal", 0)) / 2**30, 1),
        kernel=platform.release(),
        docker=info.get("ServerVersion"),
        cgroup=info.get("CgroupVersion"),
        python=platform.python_version(),
    )


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""
