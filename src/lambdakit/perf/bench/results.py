"""The bench's results, typed: one `Side` per image measured, the ratios between two sides, the targets.

`document()` is the one place they become `build/bench/results.json`; its keys are read by the bench test
and by docs/performance.md, so they stay as they are.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lambdakit.images import engine
from lambdakit.perf import breakdown, measure, pushcost, stats

KIT, BASELINE, KIT_INT8 = "kit", "baseline", "kit_int8"
WARM_PHASES = ("single", "batch8")  # one short text, a batch of 8


@dataclass(frozen=True)
class ColdStarts:
    """Fresh container start → first response (ms), with the emulator's own init figures beside it."""

    runs: list[float]
    init_report_median: float | None  # the emulator's INIT REPORT
    emulator_ready_median: float
    report_init_duration_median: float | None  # REPORT's Init Duration (near 0 under the emulator)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @classmethod
    def of(cls, runs: Sequence[measure.RunResult]) -> ColdStarts:
        return cls(
            runs=[run.cold_start_ms for run in runs],
            init_report_median=_median([run.init_report_ms for run in runs]),
            emulator_ready_median=statistics.median(run.port_ready_ms for run in runs),
            report_init_duration_median=_median([run.report_init_ms for run in runs]),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "median": self.median,
            "runs": [round(value, 1) for value in self.runs],
            "init_report_median": self.init_report_median,
            "emulator_ready_median": self.emulator_ready_median,
            "report_init_duration_median": self.report_init_duration_median,
        }


@dataclass(frozen=True)
class RestoredStarts:
    """SnapStart, restored locally (CRIU): restore started -> first response (ms), beside criu's own times."""

    runs: list[float]
    checkpoint_ms: list[float]
    restore_ms: list[float]
    user: str  # the uid the restored function ran as (0 where the engine's criu cannot dump another uid)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    def as_json(self) -> dict[str, Any]:
        return {
            "median": self.median,
            "runs": [round(value, 1) for value in self.runs],
            "checkpoint_median": statistics.median(self.checkpoint_ms),
            "restore_median": statistics.median(self.restore_ms),
            "user": self.user,
        }


@dataclass(frozen=True)
class WarmPhase:
    """One warm phase's timings: the emulator's REPORT Duration (what Lambda bills) and the round trip."""

    duration_ms: stats.Summary | None  # None when the log lacked the REPORT lines
    round_trip_ms: stats.Summary
    errors: int

    @property
    def timing(self) -> stats.Summary:
        """The billed duration when known, else the client's round trip."""
        return self.duration_ms or self.round_trip_ms

    @classmethod
    def of(cls, phase: measure.PhaseResult) -> WarmPhase:
        return cls(
            duration_ms=stats.summarise(phase.duration_ms) if phase.duration_ms else None,
            round_trip_ms=stats.summarise(phase.round_trip_ms),
            errors=sum(1 for status in phase.statuses if status != 200),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "duration_ms": self.duration_ms.as_dict() if self.duration_ms else None,
            "round_trip_ms": self.round_trip_ms.as_dict(),
            "errors": self.errors,
        }


@dataclass(frozen=True)
class ImageSizes:
    """An image's size, in total and above its base, its layers above the base and its weights' layer."""

    total_bytes: int
    base_bytes: int
    base_layers: int
    layers_above_base: list[engine.Layer]
    weights_bytes: int | None

    @property
    def above_base_bytes(self) -> int:
        return self.total_bytes - self.base_bytes

    def as_json(self) -> dict[str, Any]:
        return {
            "total_bytes": self.total_bytes,
            "base_bytes": self.base_bytes,
            "above_base_bytes": self.above_base_bytes,
            "base_layers": self.base_layers,
            "layers_above_base": [_layer_row(layer) for layer in self.layers_above_base],
            "weights_bytes": self.weights_bytes,
        }


@dataclass(frozen=True)
class PushCost:
    """The pushes of one side: initial, after a code-only and after a dependency-only change."""

    weights_layer_index: int | None
    pushes: list[pushcost.Push]

    def bytes_uploaded(self, label: str) -> int | None:
        return next((push.bytes_uploaded for push in self.pushes if push.label == label), None)

    @property
    def weights_reuploaded(self) -> list[bool | None]:
        """Whether each change pushed the weights' layer again (the initial push always does)."""
        return [push.weights_uploaded for push in self.pushes if push.label != "initial"]

    def as_json(self) -> dict[str, Any]:
        return {
            "weights_layer_index": self.weights_layer_index,
            "pushes": [push.as_dict() for push in self.pushes],
        }


@dataclass(frozen=True)
class Side:
    """Everything measured of one image."""

    image_tag: str
    cold: ColdStarts
    warm: dict[str, WarmPhase]  # by phase name (WARM_PHASES)
    peak_memory_mb: float | None
    rss_mb: float | None
    threads: str | None  # what the image's thread probe printed
    notes: list[str]
    image: ImageSizes
    push: PushCost | None = None
    restored: RestoredStarts | None = None  # None where the engine cannot checkpoint

    @property
    def restored_to_cold(self) -> float | None:
        """The restore's first answer over this side's own cold start."""
        return stats.ratio(self.restored.median, self.cold.median) if self.restored else None

    def warm_ms(self, phase: str, quantile: str = "p50") -> float | None:
        """A warm quantile as results.json holds it (rounded), so ratios and targets agree with the file."""
        entry = self.warm.get(phase)
        return float(entry.timing.as_dict()[quantile]) if entry else None

    def push_bytes(self, label: str) -> int | None:
        return self.push.bytes_uploaded(label) if self.push else None

    def as_json(self) -> dict[str, Any]:
        return {
            "cold_start_ms": self.cold.as_json(),
            "threads_in_container": self.threads,
            **{name: phase.as_json() for name, phase in self.warm.items()},
            "peak_memory_mb": self.peak_memory_mb,
            "rss_mb": self.rss_mb,
            "notes": self.notes,
            "image_tag": self.image_tag,
            "image": self.image.as_json(),
            "push": self.push.as_json() if self.push else None,
            "snapstart_restored_ms": self.restored.as_json() if self.restored else None,
        }


@dataclass(frozen=True)
class Ratios:
    """One side's figures over another's (kit / baseline); None where either is unmeasured."""

    cold_start: float | None = None
    warm_single_p50: float | None = None
    warm_batch8_p50: float | None = None
    peak_memory: float | None = None
    image_total: float | None = None
    image_above_base: float | None = None
    push_code_only: float | None = None
    push_dependency_only: float | None = None
    snapstart_restored: float | None = None

    def as_json(self) -> dict[str, float | None]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Goal:
    """One goal the bench checks (a target of an issue): the value measured and whether it is met (None:
    not measured)."""

    target: str
    value: float | list[bool | None] | None
    limit: float | bool
    met: bool | None


@dataclass(frozen=True)
class Parity:
    """The label each side gave for every bench text, and whether the sides agree."""

    labels: dict[str, list[str]]
    same: bool


@dataclass(frozen=True)
class Int8Column:
    """The kit with its int8 model: its figures, its ratios to the baseline and to the kit, its accuracy
    (prepare's comparison with fp32 from the image's manifest, and the containers' labels)."""

    side: Side
    ratios: Ratios
    ratios_to_kit: Ratios
    accuracy: dict[str, Any]
    targets: list[Goal]


@dataclass(frozen=True)
class RunLimits:
    """The limits both sides ran under (`cpus` as the containers got them)."""

    memory_mb: int
    timeout_s: int
    cpus: float


@dataclass(frozen=True)
class Settings:
    """How the run measured: counts, warm-up, whose pushes, and the two events sent."""

    cold_starts: int
    invokes: int
    warmup: int
    push: str
    single_event: Any
    batch_event: Any


@dataclass(frozen=True)
class Machine:
    """Where the figures come from: the host and its Docker engine."""

    cpu: str
    cores: int | None
    engine_cpus: int | None
    memory_gb: float
    kernel: str
    docker: str | None
    cgroup: str | None
    python: str


@dataclass
class BenchResults:
    """One bench run."""

    generated_at: str
    machine: Machine
    base_image: str
    baseline_base_image: str | None
    limits: RunLimits
    settings: Settings
    kit: Side
    baseline: Side | None
    ratios: Ratios
    floor_cold_start_ms: float | None
    breakdowns: dict[str, breakdown.Breakdown | None]
    parity: Parity | None
    notes: list[str]
    targets: list[Goal]
    int8: Int8Column | None = None
    snapstart_targets: list[Goal] = dataclasses.field(default_factory=list)


def document(results: BenchResults) -> dict[str, Any]:
    """`results.json`: every figure, the ratios, the targets and the machine, under the keys it always had."""
    entry: dict[str, Any] = {
        "generated_at": results.generated_at,
        "machine": dataclasses.asdict(results.machine),
        "base_image": results.base_image,
        "baseline_base_image": results.baseline_base_image,
        "limits": dataclasses.asdict(results.limits),
        "settings": dataclasses.asdict(results.settings),
        KIT: results.kit.as_json(),
        BASELINE: results.baseline.as_json() if results.baseline else None,
        "ratios": results.ratios.as_json(),
        "cold_start_breakdown": breakdown.report(results.floor_cold_start_ms, results.breakdowns),
        "parity": dataclasses.asdict(results.parity) if results.parity else None,
        "notes": results.notes,
        "targets": [dataclasses.asdict(target) for target in results.targets],
        "targets_snapstart": [dataclasses.asdict(target) for target in results.snapstart_targets],
    }
    if results.int8 is not None:
        entry |= {
            KIT_INT8: results.int8.side.as_json(),
            "ratios_int8": results.int8.ratios.as_json(),
            "ratios_int8_kit": results.int8.ratios_to_kit.as_json(),
            "int8_accuracy": results.int8.accuracy,
            "targets_int8": [dataclasses.asdict(target) for target in results.int8.targets],
        }
    return entry


def _layer_row(layer: engine.Layer) -> dict[str, Any]:
    """A layer as results.json lists it: the digest's first 12 hex digits, the instruction, the size."""
    return {
        "digest": layer.diff_id.split(":", 1)[-1][:12],
        "instruction": layer.created_by,
        "bytes": layer.size,
    }


def _median(values: Sequence[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return statistics.median(known) if known else None
