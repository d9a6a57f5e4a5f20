"""Local Power Tuning (`commands/tune.py` is its command): the local counterpart of AWS Lambda Power Tuning.

Runs the function image in the Lambda-faithful container at several MemorySize values (CPU =
MemorySize/1769, as Lambda gives it): a few fresh containers for the cold start, then N warm invokes of one
event, trimmed by 20 % at each end. For each size: duration, cold start, and the cost of a million invokes
on x86_64 and arm64 (`lambdakit.perf.pricing`), and with SnapStart on, its own charges beside them (a month
of one cached version, a thousand restores). Then a recommendation per strategy — `cost`, `speed`,
`balanced` — and a Timeout (p99 x safety factor, at least the cold start). Writes build/tune/results.json
and a plot; `--apply` writes MemorySize and Timeout into template.yaml, keeping its comments and layout.

Local timing is not Lambda's: a different CPU, the emulator instead of Lambda's runtime API, other
containers on the same cores. The output says so; use it to compare sizes, then confirm on Lambda.
"""

from __future__ import annotations

import datetime
import difflib
import io
import logging
import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from ruamel.yaml import YAML
from ruamel.yaml.util import load_yaml_guess_indent

from lambdakit import console
from lambdakit.config import template
from lambdakit.config.target import LAMBDA, Target
from lambdakit.core.errors import ConfigError
from lambdakit.core.settings import REPO_ROOT
from lambdakit.perf import measure, pricing, stats

DEFAULT_MEMORY = (512, 1024, LAMBDA.mb_per_vcpu, 3008)  # 1769 MB: one full vCPU
DEFAULT_EVENT = REPO_ROOT / "events" / "single.json"


def default_event(preferred: Path = DEFAULT_EVENT) -> Path:
    """events/single.json, else the first sample event of the project."""
    if preferred.is_file():
        return preferred
    events = sorted(preferred.parent.glob("*.json"))
    if not events:
        raise ConfigError(f"no sample events in {preferred.parent}: pass --event FILE.")
    return events[0]


STRATEGIES = ("cost", "speed", "balanced")
TRIM = 0.2
CAPPED_WARNING = (
    "--cpus above the host's cores cannot be given locally: sizes beyond them were capped, so their "
    "durations here are pessimistic."
)
WARNINGS = (
    "Local timing cannot stand for Lambda's: this machine's CPU is not Lambda's, the emulator is not "
    "Lambda's runtime API, and other containers share these cores. Compare the sizes with each other, "
    "then confirm the chosen one on Lambda (e.g. with AWS Lambda Power Tuning).",
    CAPPED_WARNING,
    "Costs are estimates: us-east-1 on-demand prices of the date shown, no free tier, no provisioned "
    "concurrency, no data transfer; durations measured here, rounded up to the millisecond as Lambda bills.",
    "The Timeout covers the measured event only: a larger payload (up to 64 texts of 20,000 characters) "
    "takes longer — measure it with --event before lowering the Timeout.",
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Point:
    """What one MemorySize gave."""

    memory_mb: int
    cpus: float
    duration_ms: float  # trimmed mean of the emulator's REPORT Duration
    p99_ms: float
    cold_start_ms: float  # median, start → first response
    cost_per_million: dict[str, float]
    samples: int
    peak_memory_mb: float | None = None


def point_from(
    memory_mb: int,
    cpus: float,
    durations: Sequence[float],
    cold_starts: Sequence[float],
    peak_memory_mb: float | None = None,
) -> Point:
    duration = stats.trimmed_mean(durations, TRIM)
    return Point(
        memory_mb=memory_mb,
        cpus=cpus,
        duration_ms=duration,
        p99_ms=stats.percentile(durations, 99),
        cold_start_ms=statistics.median(cold_starts),
        cost_per_million={
            arch: pricing.cost_per_million(memory_mb, duration, arch) for arch in LAMBDA.price_per_gb_second
        },
        samples=len(durations),
        peak_memory_mb=peak_memory_mb,
    )


def recommend(
    points: Sequence[Point], strategy: str, architecture: str = "x86_64", balanced_weight: float = 0.5
) -> Point:
    """The MemorySize a strategy picks: cheapest, fastest, or the best weighted mix of both.

    `balanced` scores each size by WEIGHT x cost / worst cost + (1 - WEIGHT) x duration / worst duration,
    as AWS Lambda Power Tuning does with its balanced weight; ties go to the smaller size.
    """
    if not points:
        raise ConfigError("No MemorySize was measured; give at least one with --memory.")
    if strategy not in STRATEGIES:
        raise ConfigError(f"Unknown strategy {strategy!r}; use one of {', '.join(STRATEGIES)}.")
    if not 0 <= balanced_weight <= 1:
        raise ConfigError(f"The balanced weight must be between 0 and 1, got {balanced_weight}.")

    def cost(point: Point) -> float:
        return point.cost_per_million[architecture]

    if strategy == "cost":
        return min(points, key=lambda p: (cost(p), p.duration_ms, p.memory_mb))
    if strategy == "speed":
        return min(points, key=lambda p: (p.duration_ms, cost(p), p.memory_mb))
    worst_cost = max(cost(p) for p in points) or 1.0
    worst_duration = max(p.duration_ms for p in points) or 1.0

    def score(point: Point) -> tuple[float, int]:
        weighted = balanced_weight * cost(point) / worst_cost
        return weighted + (1 - balanced_weight) * point.duration_ms / worst_duration, point.memory_mb

    return min(points, key=score)


def _capped(point: Point) -> bool:
    """Did the host give this size fewer CPUs than Lambda would?"""
    return point.cpus + 0.01 < point.memory_mb / LAMBDA.mb_per_vcpu


def timeout_seconds(p99_ms: float, cold_start_ms: float, safety: float) -> int:
    """p99 x SAFETY, never below the cold start (the first invoke of an environment waits for its init),
    rounded up to whole seconds as Lambda's Timeout takes them, within Lambda's range (1-900 s)."""
    if safety < 1:
        raise ConfigError(f"The safety factor must be at least 1, got {safety}.")
    needed_ms = max(p99_ms * safety, cold_start_ms)
    low, high = LAMBDA.ranges["Timeout"]
    return min(high, max(low, math.ceil(needed_ms / 1000)))


# --- template.yaml ---


def apply(path: Path, memory_mb: int, timeout_s: int, function: str = template.FUNCTION_ID) -> list[str]:
    """Set MemorySize and Timeout where the template defines them (the function's own Properties, else
    Globals.Function); comments, order, quoting and indentation stay. Returns the changed lines as a diff.
    """
    LAMBDA.check_range("MemorySize", memory_mb)
    LAMBDA.check_range("Timeout", timeout_s)
    original = path.read_text(encoding="utf-8")
    yaml = _layout_preserving_yaml(original, path)
    document = yaml.load(original)
    resource = template.function_resource(document, function, path)
    for key, value in (("MemorySize", memory_mb), ("Timeout", timeout_s)):
        _owner(document, resource, key)[key] = value
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    updated = buffer.getvalue()
    changed = _changed_lines(original, updated)
    if any(not line[1:].strip().startswith(("MemorySize:", "Timeout:")) for line in changed):
        raise ConfigError(
            f"Writing {path} would change more than MemorySize/Timeout (its layout is unusual); "
            f"set MemorySize: {memory_mb} and Timeout: {timeout_s} by hand."
        )
    if changed:
        path.write_text(updated, encoding="utf-8")
    return changed


def _layout_preserving_yaml(text: str, path: Path) -> YAML:
    """A round-trip dumper whose indentation reproduces TEXT exactly (tried on the unchanged document)."""
    _, guessed, guessed_offset = load_yaml_guess_indent(text)
    candidates = [(2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4), (4, 4, 0)]
    if guessed:
        candidates.insert(0, (2, guessed, guessed_offset or 0))
    for mapping, sequence, offset in candidates:
        yaml = YAML()
        yaml.preserve_quotes = True
        yaml.width = 4096  # never re-wrap long lines
        yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
        buffer = io.StringIO()
        yaml.dump(yaml.load(text), buffer)
        if buffer.getvalue() == text:
            return yaml
    raise ConfigError(
        f"{path} cannot be rewritten without changing its layout; set MemorySize and Timeout by hand."
    )


def _owner(document: Any, resource: Any, key: str) -> Any:
    """Where KEY lives: the function's Properties if set there, else Globals.Function, else Properties."""
    properties = resource.get("Properties")
    if properties is not None and key in properties:
        return properties
    function_globals = (document.get("Globals") or {}).get("Function")
    if function_globals is not None:
        return function_globals
    return resource.setdefault("Properties", {})


def _changed_lines(before: str, after: str) -> list[str]:
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]


# --- measuring ---


def measure_sizes(
    image: str,
    limits: Target,
    sizes: Sequence[int],
    event: Any,
    invokes: int,
    cold_starts: int,
    client_image: str,
    container_prefix: str,
) -> list[Point]:
    """Per size: COLD_STARTS fresh containers, then one with warm invokes; a step of the bar each. The
    containers are named under CONTAINER_PREFIX (the project's)."""
    with console.progress("tune", total=len(sizes) * (cold_starts + 1)) as bar:
        return [
            measure_size(
                image,
                limits.with_memory(size),
                event,
                invokes,
                cold_starts,
                client_image,
                container_prefix,
                bar,
            )
            for size in sizes
        ]


def measure_size(
    image: str,
    at_size: Target,
    event: Any,
    invokes: int,
    cold_starts: int,
    client_image: str,
    container_prefix: str,
    bar: console.Bar,
) -> Point:
    memory_mb = at_size.memory_mb
    colds = []
    for index in range(cold_starts):
        bar.update(note=f"tune: {memory_mb} MB, cold start {index + 1}/{cold_starts}")
        run = measure.run(image, at_size, [measure.Phase("cold", event, 1)], client_image, container_prefix)
        colds.append(run.cold_start_ms)
        bar.advance()
        log.info("%d MB: cold start %d/%d: %.0f ms", memory_mb, index + 1, cold_starts, run.cold_start_ms)
    bar.update(note=f"tune: {memory_mb} MB, {invokes} warm invokes")
    phases = [
        measure.Phase("cold", event, 1),
        measure.Phase("warmup", event, 5),
        measure.Phase("warm", event, invokes),
    ]
    run = measure.run(image, at_size, phases, client_image, container_prefix)
    bar.advance()
    warm = run.phases["warm"]
    point = point_from(memory_mb, run.cpus, warm.duration_ms or warm.round_trip_ms, colds, run.peak_memory_mb)
    log.info(
        "%d MB (%s CPU): %.1f ms trimmed mean, p99 %.1f ms",
        memory_mb,
        run.cpus,
        point.duration_ms,
        point.p99_ms,
    )
    return point


def plot(points: Sequence[Point], architecture: str, target: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    from matplotlib import pyplot

    sizes = [p.memory_mb for p in points]
    figure, duration_axis = pyplot.subplots(figsize=(8, 4.5))
    duration_axis.plot(sizes, [p.duration_ms for p in points], "o-", color="tab:blue", label="duration")
    duration_axis.set_xlabel("MemorySize (MB)")
    duration_axis.set_ylabel("duration, trimmed mean (ms)", color="tab:blue")
    cost_axis = duration_axis.twinx()
    cost_axis.plot(
        sizes, [p.cost_per_million[architecture] for p in points], "s--", color="tab:red", label="cost"
    )
    cost_axis.set_ylabel(f"US$ per million invokes ({architecture})", color="tab:red")
    duration_axis.set_title("lambdakit tune: duration and cost against memory (local estimate)")
    figure.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target, dpi=110)
    pyplot.close(figure)
    return target


def results_document(
    points: Sequence[Point],
    architecture: str,
    safety: float,
    balanced_weight: float,
    image: str,
    event: Any,
    invokes: int,
    cold_starts: int,
    snapstart: bool = False,
) -> dict[str, Any]:
    recommendations = {}
    for strategy in STRATEGIES:
        chosen = recommend(points, strategy, architecture, balanced_weight)
        recommendations[strategy] = {
            "memory_mb": chosen.memory_mb,
            "timeout_s": timeout_seconds(chosen.p99_ms, chosen.cold_start_ms, safety),
            "duration_ms": round(chosen.duration_ms, 3),
            "cost_per_million": round(chosen.cost_per_million[architecture], 4),
        }
    return {
        "generated_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "image": image,
        "event": event,
        "settings": {
            "invokes": invokes,
            "cold_starts": cold_starts,
            "trim": TRIM,
            "safety": safety,
            "balanced_weight": balanced_weight,
            "architecture": architecture,
        },
        "prices": {
            "per_gb_second": dict(LAMBDA.price_per_gb_second),
            "per_million_requests": LAMBDA.price_per_million_requests,
            "source": LAMBDA.prices_source,
            "as_of": LAMBDA.prices_as_of,
        },
        "points": [asdict(p) for p in points],
        **({"snapstart": _snapstart_section(points)} if snapstart else {}),
        "recommendations": recommendations,
        "warnings": [w for w in WARNINGS if w != CAPPED_WARNING or any(_capped(p) for p in points)],
    }


def _snapstart_section(points: Sequence[Point]) -> dict[str, Any]:
    """SnapStart's charges per MemorySize, which depend on traffic (restores) and versions kept, not on the
    measured duration: shown beside the duration cost, not folded into it or into the recommendations."""
    return {
        "cache_per_gb_second": LAMBDA.snapstart_cache_per_gb_second,
        "restore_per_gb": LAMBDA.snapstart_restore_per_gb,
        "min_cache_hours": LAMBDA.snapstart_min_cache_hours,
        "source": LAMBDA.snapstart_prices_source,
        "per_memory_mb": {str(p.memory_mb): asdict(pricing.snapstart_cost(p.memory_mb)) for p in points},
    }


def print_results(document: dict[str, Any], console: Console) -> None:
    snapstart = document.get("snapstart")
    table = Table(title="tune: duration and cost per MemorySize (local estimate)")
    columns = [
        "MemorySize",
        "CPU",
        "duration (trimmed)",
        "p99",
        "cold start",
        "peak memory",
        "$/1M x86_64",
        "$/1M arm64",
    ]
    if snapstart:
        columns += ["SnapStart $/month cached", "$/1k restores"]
    for column in columns:
        table.add_column(column, justify="right")
    for p in document["points"]:
        extra = []
        if snapstart:
            cost = snapstart["per_memory_mb"][str(p["memory_mb"])]
            extra = [f"{cost['cache_per_month']:.2f}", f"{cost['per_thousand_restores']:.3f}"]
        table.add_row(
            f"{p['memory_mb']} MB",
            f"{p['cpus']:.2f}",
            f"{p['duration_ms']:.1f} ms",
            f"{p['p99_ms']:.1f} ms",
            f"{p['cold_start_ms']:.0f} ms",
            f"{p['peak_memory_mb']} MB",
            f"{p['cost_per_million']['x86_64']:.3f}",
            f"{p['cost_per_million']['arm64']:.3f}",
            *extra,
        )
    console.print(table)
    for strategy, choice in document["recommendations"].items():
        console.print(
            f"{strategy:>8}: MemorySize {choice['memory_mb']} MB, Timeout {choice['timeout_s']} s "
            f"({choice['duration_ms']:.1f} ms, ${choice['cost_per_million']:.3f} per million)"
        )
    prices = document["prices"]
    console.print(f"prices: {prices['source']}, as of {prices['as_of']}")
    if snapstart:
        console.print(
            f"SnapStart: ${snapstart['cache_per_gb_second']} per GB-second cached per active version "
            f"(at least {snapstart['min_cache_hours']:g} h), ${snapstart['restore_per_gb']} per GB restored, "
            "on top of the duration cost; not in the recommendations (they depend on traffic). "
            f"{snapstart['source']}"
        )
    for warning in document["warnings"]:
        console.print(f"[yellow]warning:[/yellow] {warning}")
