"""`python -m lambdakit bench` (`nox -s bench`): the kit's function beside the usual torch approach.

Both images run the same pipeline under the same Lambda-faithful limits (MemorySize from template.yaml unless
--memory; CPU = MemorySize/1769), measured in one run and alternating. The kit runs on the project's base
(Python 3.13); the baseline on the Python 3.11 one of the same kind, since the only CPU build of torch here
is for CPython 3.11 (PyPI's Linux torch is the CUDA build):

* cold start: fresh container start → first response, and the emulator's INIT REPORT; median of N each;
* warm duration: p50/p95/p99 over N invokes of one short text and of a batch of 8 (the emulator's REPORT
  `Duration`, what Lambda bills; the client's round trip beside it);
* peak memory of the container's cgroup; image size, total and above the base, per layer;
* push cost to a local registry after a code-only and a dependency-only change, and whether the weights'
  layer went up again.

`--quantize` adds a third column, the kit with its int8 export (INFERENCE_PRECISION=int8), measured the same
way (but not pushed), with its accuracy against fp32 beside the speed.

With a function other than the demo (src/inference without the demo's files), the baseline column is left
out and the events are the project's own: events/single.json (else the first sample event) as the single
event, events/batch.json (else the single one again) as the batch.

Writes build/bench/results.json (every figure, the ratios kit/baseline, the machine) and results.md, and
prints the table. Targets are reported as met or not; nothing here fails because of a number.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from lambdakit.config import template
from lambdakit.core import config
from lambdakit.core.errors import ConfigError
from lambdakit.core.settings import REPO_ROOT, base_image, build_dir
from lambdakit.images import build, emulation, engine
from lambdakit.perf import baseline, breakdown, measure, pushcost, quantized, stats

TAG_PREFIX = "lambdakit-bench"
KIT, BASELINE, KIT_INT8 = "kit", "baseline", "kit_int8"
SINGLE_EVENT = {"text": "I was charged twice this month"}
BATCH_EVENT = {
    "texts": [
        "The app crashes every time I try to upload a photo from my gallery.",
        "I forgot my password and the reset e-mail never arrives.",
        "My order #48213 was supposed to arrive on Monday and the tracking has not moved since.",
        "Would love an export-to-CSV button on the reports page!",
        "Please cancel my plan at the end of this billing period.",
        "Why is there a second charge of 49.99 on my card?",
        "Mon colis n'est jamais arrivé 📦",
        "hi",
    ]
}
WARMUP_INVOKES = 10
TARGETS = {
    "cold_start_ratio": 0.15,
    "cold_start_ms": 500.0,
    "warm_single_p50_ms": 5.0,
    "image_above_base_ratio": 0.25,
    "code_push_bytes": 100 * 1024,
}
NOISE_NOTE = (
    "Local figures: this machine's CPU, Docker and the emulator stand in for Lambda's; other "
    "containers sharing the cores make them noisy. Compare the two columns, not absolute values."
)

Log = Callable[[str], None]


@dataclass(frozen=True)
class Contender:
    """One side of the bench: its image, build context and where its weights and code live."""

    name: str
    image: str
    context: Path
    dockerfile: Path
    code_file: str
    deps_dir: str
    weights_marker: str
    thread_probe: list[str]
    build_args: dict[str, str]
    base: str


@dataclass
class Measured:
    cold: list[measure.RunResult] = field(default_factory=list)
    warm: measure.RunResult | None = None
    threads: str | None = None
    breakdown: breakdown.Breakdown | None = None


def pin_base(base: str, prefix: str) -> str:
    """Tag the base under the bench's own name: every image of one run builds on the same base even if the
    shared tag is rebuilt meanwhile (the push figures would otherwise count new base layers)."""
    engine.require_image(base, "run `nox -s base-image` (or pull the AWS base)")
    engine.tag_image(base, f"{prefix}/base", "pinned")
    return f"{prefix}/base:pinned"


def bench_events(demo: bool, repo: Path = REPO_ROOT) -> tuple[Any, Any]:
    """(single, batch): the demo's bench texts, or the project's own sample events."""
    if demo:
        return SINGLE_EVENT, BATCH_EVENT
    events = sorted((repo / "events").glob("*.json"))
    if not events:
        raise ConfigError(f"no sample events in {repo / 'events'}: the bench sends them to the function.")
    by_name = {path.stem: path for path in events}
    single = by_name.get("single", events[0])
    batch = by_name.get("batch", single)
    return json.loads(single.read_text(encoding="utf-8")), json.loads(batch.read_text(encoding="utf-8"))


def handler_file(project: config.ProjectConfig | None = None) -> str:
    """The handler's module under the code layer's package folder (`inference/handler.py`)."""
    project = project or config.load()
    return "/".join(project.handler_module.split(".")) + ".py"


THREAD_PROBE = ["python3", "-c", "import os; print(len(os.sched_getaffinity(0)))"]


def build_contenders(
    base: str,
    architecture: str,
    log: Log,
    prefix: str = TAG_PREFIX,
    asset: str | None = None,
    quantize: bool = False,
    int8_asset: str | None = None,
) -> list[Contender]:
    """Build (or reuse through Docker's cache) the kit's function image and the baseline, on one base;
    with QUANTIZE, the kit's image again on the int8 asset image with INFERENCE_PRECISION=int8."""
    inputs = build.resolve_inputs({quantized.PRECISION_ARG: "fp32"}, base=base, asset=asset)
    kit_tag = f"{prefix}/kit:latest"
    # A context of the bench's own, so a bench never races `nox -s build` over build/function/.
    context = build_dir() / "bench" / "kit-context"
    staged = build.stage(context=context, target=build.target_for(base, architecture))
    log(f"docker build {kit_tag} (base {inputs.base_image}, assets {inputs.asset_image})")
    build.build_image(kit_tag, inputs, context=staged.context)
    demo = baseline.applies()
    kit = Contender(
        name=KIT,
        image=kit_tag,
        context=staged.context,
        dockerfile=REPO_ROOT / "Dockerfile",
        code_file=_relative_file(staged.context / "code", handler_file()),
        deps_dir=_deepest_single_path(staged.context, "deps"),
        weights_marker=r"--from",
        # the demo sizes its thread pools from the cgroup quota; any function: the CPUs it may use
        thread_probe=(
            ["python3", "-c", "from inference.pipeline import cpu_threads; print(cpu_threads())"]
            if demo
            else THREAD_PROBE
        ),
        build_args=inputs.build_args(),
        base=base,
    )
    contenders = [kit]
    if not demo:
        log("no baseline: src/inference is not the demo, so the bench measures your function alone")
    else:
        baseline_base = pin_base(baseline.base_for(base), f"{prefix}/baseline")
        baseline_tag = baseline.build(baseline_base, tag=f"{prefix}/baseline:latest")
        baseline_context = baseline.stage().context
        contenders.append(
            Contender(
                name=BASELINE,
                image=baseline_tag,
                context=baseline_context,
                dockerfile=baseline.BASELINE_DIR / "Dockerfile",
                code_file="code/app.py",
                deps_dir="deps",
                weights_marker=r"\bmodel/",
                thread_probe=["python3", "-c", "import torch; print(torch.get_num_threads())"],
                build_args={"BASE_IMAGE": baseline_base},
                base=baseline_base,
            )
        )
    if quantize:
        contenders.append(build_int8(kit, base, log, prefix, int8_asset))
    return contenders


def build_int8(kit: Contender, base: str, log: Log, prefix: str, asset: str | None) -> Contender:
    """The kit's image on the int8 asset image, its environment selecting int8: same deps and code layers."""
    asset = asset or quantized.asset_image(f"{prefix}-int8-assets")
    inputs = build.resolve_inputs({quantized.PRECISION_ARG: quantized.INT8}, base=base, asset=asset)
    tag = f"{prefix}/kit-int8:latest"
    log(f"docker build {tag} ({inputs.describe()})")
    build.build_image(tag, inputs, context=kit.context)
    return replace(kit, name=KIT_INT8, image=tag, build_args=inputs.build_args())


def _relative_file(root: Path, suffix: str) -> str:
    """The path (relative to root's parent) of the one file under ROOT that ends with SUFFIX."""
    for path in sorted(root.rglob(Path(suffix).name)):
        if path.as_posix().endswith(suffix):
            return path.relative_to(root.parent).as_posix()
    raise ConfigError(f"No {suffix} under {root}: the kit's build context changed shape; rebuild it.")


def _deepest_single_path(context: Path, folder: str) -> str:
    """deps/ may hold the image path (deps/var/task/...): follow single sub-folders down to the packages."""
    path = context / folder
    while True:
        children = list(path.iterdir())
        if len(children) != 1 or not children[0].is_dir():
            return path.relative_to(context).as_posix()
        path = children[0]


def warm_phases(invokes: int, single: Any = SINGLE_EVENT, batch: Any = BATCH_EVENT) -> list[measure.Phase]:
    return [
        measure.Phase("cold", single, 1),
        measure.Phase("warmup", single, WARMUP_INVOKES),
        measure.Phase("single", single, invokes),
        measure.Phase("warmup-batch", batch, WARMUP_INVOKES),
        measure.Phase("batch8", batch, invokes),
    ]


def measure_all(
    contenders: Sequence[Contender],
    limits: template.Limits,
    cold_starts: int,
    invokes: int,
    client_image: str,
    log: Log,
    events: tuple[Any, Any] = (SINGLE_EVENT, BATCH_EVENT),
) -> dict[str, Measured]:
    """Cold starts alternate kit, baseline, kit, ...; then one warm container each, in the same order."""
    single, _ = events
    results = {c.name: Measured() for c in contenders}
    for contender in contenders:  # not counted: the first start after a build reads the layers from disk
        log(f"priming run of {contender.name} (not counted)")
        measure.run(contender.image, limits, [measure.Phase("cold", single, 1)], client_image)
    for round_ in range(1, cold_starts + 1):
        for contender in contenders:
            run = measure.run(contender.image, limits, [measure.Phase("cold", single, 1)], client_image)
            results[contender.name].cold.append(run)
            log(f"cold start {round_}/{cold_starts} {contender.name}: {run.cold_start_ms:.0f} ms")
    for contender in contenders:
        log(f"cold start with -X importtime (for its breakdown, not counted), {contender.name}")
        results[contender.name].breakdown = cold_start_breakdown(contender, limits, single, client_image)
    for contender in contenders:
        log(f"warm: {invokes} invokes of one text and {invokes} of a batch of 8, {contender.name}")
        run = measure.run(
            contender.image, limits, warm_phases(invokes, *events), client_image, probe=contender.thread_probe
        )
        results[contender.name].warm = run
        results[contender.name].threads = run.probe_output
    return results


def cold_start_breakdown(
    contender: Contender, limits: template.Limits, event: Any, client_image: str
) -> breakdown.Breakdown | None:
    """One more cold start, with Python's import profile in the log; None if the log lacks what it needs."""
    run = measure.run(
        contender.image,
        limits,
        [measure.Phase("cold", event, 1)],
        client_image,
        environment=breakdown.IMPORTTIME_ENV,
    )
    if run.init_report_ms is None:
        return None
    return breakdown.breakdown(run.cold_start_ms, run.init_report_ms, run.log)


def floor_cold_starts(base: str, limits: template.Limits, runs: int, prefix: str, log: Log) -> float:
    """Median cold start of an empty handler on BASE, measured like the sides: the floor."""
    tag = f"{prefix}/floor:latest"
    log(f"docker build {tag} (an empty handler on {base}), then {runs} cold starts")
    engine.build(breakdown.stage_floor(build_dir() / "bench" / "floor"), tag, buildargs={"BASE_IMAGE": base})
    # one priming run first, not counted, as for the sides: the first start after a build reads from disk
    cold = [measure.run(tag, limits, [measure.Phase("cold", {}, 1)], base) for _ in range(runs + 1)]
    return statistics.median(run.cold_start_ms for run in cold[1:])


def image_report(tag: str, base: str, contender: Contender | None = None) -> dict[str, Any]:
    """Total size, size above the base image, each layer above the base, and the weights' layer."""
    image = engine.require_image(tag, "build it first")
    base_image_ = engine.require_image(base, "run `nox -s base-image` (or pull the base)")
    base_layers = len(base_image_.attrs["RootFS"]["Layers"])
    layers = engine.layers(tag)
    above = [
        {"digest": layer.diff_id[7:19], "instruction": layer.created_by, "bytes": layer.size}
        for layer in layers[base_layers:]
    ]
    total, base_size = int(image.attrs["Size"]), int(base_image_.attrs["Size"])
    weights = (
        pushcost.weights_layer_index(contender.dockerfile, contender.weights_marker, base_layers)
        if contender is not None
        else None
    )
    return {
        "total_bytes": total,
        "base_bytes": base_size,
        "above_base_bytes": total - base_size,
        "base_layers": base_layers,
        "layers_above_base": above,
        "weights_bytes": layers[weights].size if weights is not None and weights < len(layers) else None,
    }


def measure_pushes(
    contenders: Sequence[Contender], sizes: dict[str, dict[str, Any]], log: Log
) -> dict[str, Any]:
    """Initial push, then a code-only and a dependency-only change, per contender, into one fresh registry."""
    results: dict[str, Any] = {}
    work = build_dir() / "bench" / "variants"
    with pushcost.local_registry() as registry:
        for contender in contenders:
            weights = pushcost.weights_layer_index(
                contender.dockerfile, contender.weights_marker, sizes[contender.name]["base_layers"]
            )
            repository = f"bench-{contender.name}"
            variants = {
                "initial": contender.image,
                "code_only": _variant(
                    contender,
                    "code",
                    pushcost.code_change(
                        contender.context, contender.code_file, work / f"{contender.name}-code"
                    ),
                    log,
                ),
                "dependency_only": _variant(
                    contender,
                    "deps",
                    pushcost.dependency_change(
                        contender.context, contender.deps_dir, work / f"{contender.name}-deps"
                    ),
                    log,
                ),
            }
            pushes = []
            for label, image in variants.items():
                result = pushcost.push(registry, image, repository, label.replace("_", "-"), label, weights)
                log(
                    f"push {contender.name} {label}: {result.bytes_uploaded / 1e6:.2f} MB in "
                    f"{result.layers_uploaded}/{result.layers} layers, "
                    f"weights re-uploaded: {result.weights_uploaded}"
                )
                pushes.append(result.as_dict())
            results[contender.name] = {"weights_layer_index": weights, "pushes": pushes}
            for image in list(variants.values())[1:]:
                engine.remove_image(image)
    shutil.rmtree(work, ignore_errors=True)
    return results


def pushed_sides(push: str) -> tuple[str, ...]:
    """--push both|kit|baseline|none. Never kit int8: in the one registry it would share the kit's
    dependency and code layers, and its uploads would look smaller than they are."""
    return {"both": (KIT, BASELINE), "kit": (KIT,), "baseline": (BASELINE,)}.get(push, ())


def _variant(contender: Contender, kind: str, context: Path, log: Log) -> str:
    tag = f"{contender.image.rsplit(':', 1)[0]}:{kind}-change"
    log(f"docker build {tag}")
    engine.build(context, tag, dockerfile=str(contender.dockerfile), buildargs=contender.build_args)
    return tag


def summary_of(measured: Measured) -> dict[str, Any]:
    cold = [run.cold_start_ms for run in measured.cold]
    init = [run.init_report_ms for run in measured.cold if run.init_report_ms is not None]
    report: dict[str, Any] = {
        "cold_start_ms": {
            "median": statistics.median(cold),
            "runs": [round(v, 1) for v in cold],
            "init_report_median": statistics.median(init) if init else None,
            "emulator_ready_median": statistics.median(r.port_ready_ms for r in measured.cold),
            "report_init_duration_median": _median([r.report_init_ms for r in measured.cold]),
        },
        "threads_in_container": measured.threads,
    }
    warm = measured.warm
    if warm is not None:
        for name in ("single", "batch8"):
            phase = warm.phases[name]
            report[name] = {
                "duration_ms": stats.summarise(phase.duration_ms).as_dict() if phase.duration_ms else None,
                "round_trip_ms": stats.summarise(phase.round_trip_ms).as_dict(),
                "errors": sum(1 for status in phase.statuses if status != 200),
            }
        report["peak_memory_mb"] = warm.peak_memory_mb
        report["rss_mb"] = warm.rss_mb
        report["notes"] = warm.notes
    return report


def _median(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def warm_p50(side: dict[str, Any], phase: str) -> float | None:
    entry = side.get(phase) or {}
    series = entry.get("duration_ms") or entry.get("round_trip_ms")
    return float(series["p50"]) if series else None


def push_bytes(side: dict[str, Any] | None, label: str) -> int | None:
    for entry in (side or {}).get("pushes", []):
        if entry["label"] == label:
            return int(entry["bytes_uploaded"])
    return None


def ratios(kit: dict[str, Any], base: dict[str, Any] | None) -> dict[str, float | None]:
    if base is None:  # no baseline for this function: every ratio unmeasured
        return dict.fromkeys(RATIO_KEYS)
    pairs = {
        "cold_start": (kit["cold_start_ms"]["median"], base["cold_start_ms"]["median"]),
        "warm_single_p50": (warm_p50(kit, "single"), warm_p50(base, "single")),
        "warm_batch8_p50": (warm_p50(kit, "batch8"), warm_p50(base, "batch8")),
        "peak_memory": (kit.get("peak_memory_mb"), base.get("peak_memory_mb")),
        "image_total": (kit["image"]["total_bytes"], base["image"]["total_bytes"]),
        "image_above_base": (kit["image"]["above_base_bytes"], base["image"]["above_base_bytes"]),
        "push_code_only": (
            push_bytes(kit.get("push"), "code_only"),
            push_bytes(base.get("push"), "code_only"),
        ),
        "push_dependency_only": (
            push_bytes(kit.get("push"), "dependency_only"),
            push_bytes(base.get("push"), "dependency_only"),
        ),
    }
    return {name: _rounded(stats.ratio(a, b)) for name, (a, b) in pairs.items()}


RATIO_KEYS = (
    "cold_start",
    "warm_single_p50",
    "warm_batch8_p50",
    "peak_memory",
    "image_total",
    "image_above_base",
    "push_code_only",
    "push_dependency_only",
)


def targets(kit: dict[str, Any], ratio: dict[str, float | None]) -> list[dict[str, Any]]:
    """Each target of the issue with the measured value and whether it is met (None: not measured)."""
    pushes = (kit.get("push") or {}).get("pushes", [])
    weights = [p["weights_uploaded"] for p in pushes if p["label"] != "initial"]
    rows = [
        ("cold start ≤ 0.15 x baseline", ratio["cold_start"], TARGETS["cold_start_ratio"]),
        ("cold start ≤ 0.5 s", kit["cold_start_ms"]["median"], TARGETS["cold_start_ms"]),
        ("warm p50, one short text ≤ 5 ms", warm_p50(kit, "single"), TARGETS["warm_single_p50_ms"]),
        ("image above base ≤ 0.25 x baseline", ratio["image_above_base"], TARGETS["image_above_base_ratio"]),
        ("code-only push ≤ 100 KB", push_bytes(kit.get("push"), "code_only"), TARGETS["code_push_bytes"]),
    ]
    result = [
        {"target": name, "value": value, "limit": limit, "met": None if value is None else value <= limit}
        for name, value, limit in rows
    ]
    result.append(
        {
            "target": "asset layer not re-uploaded when the weights did not change",
            "value": weights or None,
            "limit": False,
            "met": (not any(weights)) if weights and None not in weights else None,
        }
    )
    return result


def same_labels(warm_bodies: dict[str, dict[str, str | None]]) -> dict[str, Any]:
    """Do both sides give the same label for every bench text? (They run the same pipeline.)"""
    labels = {side: labels_of(bodies) for side, bodies in warm_bodies.items()}
    values = list(labels.values())
    return {"labels": labels, "same": all(v == values[0] for v in values[1:])}


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


def machine_info() -> dict[str, Any]:
    info = engine.client().info()
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "engine_cpus": info.get("NCPU"),
        "memory_gb": round(int(info.get("MemTotal", 0)) / 2**30, 1),
        "kernel": platform.release(),
        "docker": info.get("ServerVersion"),
        "cgroup": info.get("CgroupVersion"),
        "python": platform.python_version(),
    }


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _rounded(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None


def markdown(results: dict[str, Any]) -> str:
    names = columns(results)
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows(results)]
    lines += breakdown_lines(results.get("cold_start_breakdown"))
    for title, key in (("target", "targets"), ("target (kit int8)", "targets_int8")):
        if key in results:
            lines += ["", f"| {title} | measured | met |", "|---|---|---|"]
            lines += [f"| {t['target']} | {_fmt_target(t)} | {_met(t['met'])} |" for t in results[key]]
    limits = results["limits"]
    lines += [
        "",
        f"MemorySize {limits['memory_mb']} MB, {limits['cpus']} CPU; {results['settings']['cold_starts']} "
        f"cold starts and {results['settings']['invokes']} warm invokes each; "
        f"machine: {results['machine']['cpu']}, {results['machine']['cores']} cores.",
        "",
        *[f"- {note}" for note in results["notes"]],
    ]
    return "\n".join(lines) + "\n"


BREAKDOWN_PARTS = (
    ("runtime start (container, emulator, interpreter)", "runtime_start_ms"),
    ("runtime client's imports", "runtime_imports_ms"),
    ("imports (what the handler's module imports)", "imports_ms"),
    ("init code (the module's own top level: model load)", "init_code_ms"),
    ("first invoke (REPORT Duration)", "first_invoke_ms"),
    ("cold start of this run (with -X importtime)", "cold_start_ms"),
)


def breakdown_lines(entry: dict[str, Any] | None) -> list[str]:
    """The cold start's parts per side, beside the empty handler's cold start (the floor)."""
    if not entry:
        return []
    sides = entry["sides"]
    lines = ["", "| cold start, part | " + " | ".join(sides) + " |", "|---|" + "---|" * len(sides)]
    for label, key in BREAKDOWN_PARTS:
        lines.append(f"| {label} | " + " | ".join(_ms(p[key] if p else None) for p in sides.values()) + " |")
    floor = _ms(entry["floor_cold_start_ms"])
    lines.append(f"| floor: an empty handler on the same base (median) | {floor} |")
    return lines


Row = tuple[str, ...]
Show = Callable[[dict[str, Any]], str]


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f} ms"


def _mb(value: float | None) -> str:
    return "—" if value is None else f"{value / 1e6:,.1f} MB"


def _x(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}x"


def _warm(side: dict[str, Any], phase: str, q: str) -> float | None:
    entry = side.get(phase) or {}
    series = entry.get("duration_ms") or entry.get("round_trip_ms")
    return float(series[q]) if series else None


def _warm_ms(phase: str, q: str) -> Show:
    return lambda side: _ms(_warm(side, phase, q))


def figures() -> list[tuple[str, Show, str | None]]:
    """Each table row: its title, how a side's figure reads, and the ratio shown beside it (if any)."""
    rows: list[tuple[str, Show, str | None]] = [
        (
            "cold start (start → first response, median)",
            lambda s: _ms(s["cold_start_ms"]["median"]),
            "cold_start",
        ),
        ("emulator INIT REPORT (median)", lambda s: _ms(s["cold_start_ms"]["init_report_median"]), None),
    ]
    for phase, title in (("single", "one short text"), ("batch8", "batch of 8")):
        for q in ("p50", "p95", "p99"):
            rows.append(
                (f"warm {q}, {title}", _warm_ms(phase, q), f"warm_{phase}_p50" if q == "p50" else None)
            )
    rows += [
        ("peak memory (cgroup)", lambda s: f"{s.get('peak_memory_mb')} MB", "peak_memory"),
        ("image total", lambda s: _mb(s["image"]["total_bytes"]), "image_total"),
        ("image above base", lambda s: _mb(s["image"]["above_base_bytes"]), "image_above_base"),
        ("weights layer", lambda s: _mb(s["image"].get("weights_bytes")), None),
        (
            "push after code-only change",
            lambda s: _bytes(push_bytes(s.get("push"), "code_only")),
            "push_code_only",
        ),
        (
            "push after dependency-only change",
            lambda s: _bytes(push_bytes(s.get("push"), "dependency_only")),
            "push_dependency_only",
        ),
        ("weights re-uploaded (code / deps change)", _weights, None),
        ("threads in the container", lambda s: str(s.get("threads_in_container")), None),
    ]
    return rows


def columns(results: dict[str, Any]) -> list[str]:
    if results.get(BASELINE) is None:
        return ["figure", "your function"]
    names = ["figure", "kit (ONNX Runtime)", "baseline (torch)", "kit / baseline"]
    return names + (["kit int8", "int8 / baseline", "int8 / kit"] if KIT_INT8 in results else [])


def table_rows(results: dict[str, Any]) -> list[Row]:
    kit, base, ratio = results[KIT], results.get(BASELINE), results["ratios"]
    if base is None:
        return [(title, show(kit)) for title, show, _ in figures()]
    int8 = results.get(KIT_INT8)
    rows: list[Row] = []
    for title, show, key in figures():
        row = [title, show(kit), show(base), _x(ratio[key]) if key else ""]
        if int8 is not None:
            row += [
                show(int8),
                *(_x(results[r][key]) if key else "" for r in ("ratios_int8", "ratios_int8_kit")),
            ]
        rows.append(tuple(row))
    return rows + (accuracy_rows(results["int8_accuracy"]) if int8 is not None else [])


def accuracy_rows(accuracy: dict[str, Any]) -> list[Row]:
    """int8's accuracy against fp32, in the int8 column."""
    prepared, bench_texts = accuracy["prepare_vs_fp32"], accuracy["bench_texts_vs_fp32"]
    rows = [
        (
            f"int8 vs fp32: same label ({prepared['texts']} evaluation texts of prepare)",
            f"{prepared['label_agreement']:.1%}",
        ),
        (
            "int8 vs fp32: embedding cosine min / mean",
            f"{prepared['min_cosine']:.4f} / {prepared['mean_cosine']:.4f}",
        ),
        (
            f"int8 vs fp32 containers: same label ({bench_texts['texts']} bench texts)",
            f"{bench_texts['same']}/{bench_texts['texts']}",
        ),
    ]
    return [(title, "", "", "", value, "", "") for title, value in rows]


def _bytes(value: int | None) -> str:
    if value is None:
        return "—"
    return f"{value / 1024:,.1f} KB" if value < 10 * 1024 * 1024 else f"{value / 1e6:,.1f} MB"


def _weights(side: dict[str, Any]) -> str:
    pushes = (side.get("push") or {}).get("pushes", [])
    flags = [p["weights_uploaded"] for p in pushes if p["label"] != "initial"]
    return " / ".join("yes" if flag else "no" for flag in flags) if flags else "—"


def _fmt_target(target: dict[str, Any]) -> str:
    value = target["value"]
    if isinstance(value, float):
        return f"{value:,.3f}"
    return str(value)


def _met(met: bool | None) -> str:
    return "not measured" if met is None else ("yes" if met else "**no**")


def print_table(results: dict[str, Any], console: Console) -> None:
    versus = " vs baseline" if results.get(BASELINE) is not None else ""
    table = Table(title=f"bench: kit{versus} at {results['limits']['memory_mb']} MB")
    for column in columns(results):
        table.add_column(column, justify="left" if column == "figure" else "right")
    for row in table_rows(results):
        table.add_row(*row)
    console.print(table)
    for title, key in (("targets", "targets"), ("targets, kit int8", "targets_int8")):
        if key not in results:
            continue
        goals = Table(title=title)
        for column in ("target", "measured", "met"):
            goals.add_column(column)
        for target in results[key]:
            goals.add_row(target["target"], _fmt_target(target), _met(target["met"]).strip("*"))
        console.print(goals)
    for note in results["notes"]:
        console.print(f"note: {note}")


def run_bench(
    limits: template.Limits,
    cold_starts: int,
    invokes: int,
    push: str,
    out_dir: Path,
    console: Console,
    prefix: str = TAG_PREFIX,
    asset: str | None = None,
    quantize: bool = False,
    int8_asset: str | None = None,
) -> dict[str, Any]:
    def log(message: str) -> None:
        console.print(f"[dim]bench:[/dim] {message}")

    base = pin_base(base_image(), prefix)
    contenders = build_contenders(base, limits.architecture, log, prefix, asset, quantize, int8_asset)
    events = bench_events(demo=any(c.name == BASELINE for c in contenders))
    sizes = {c.name: image_report(c.image, c.base, c) for c in contenders}
    measured = measure_all(contenders, limits, cold_starts, invokes, base, log, events)
    floor_ms = floor_cold_starts(base, limits, cold_starts, prefix, log)
    pushed_for = [c for c in contenders if c.name in pushed_sides(push)]
    pushes = measure_pushes(pushed_for, sizes, log) if pushed_for else {}
    sides = {}
    for contender in contenders:
        side = summary_of(measured[contender.name]) | {
            "image_tag": contender.image,
            "image": sizes[contender.name],
        }
        side["push"] = pushes.get(contender.name)
        sides[contender.name] = side
    ratio = ratios(sides[KIT], sides.get(BASELINE))
    bodies = {
        name: {p: m.warm.phases[p].first_body for p in ("single", "batch8")}
        for name, m in measured.items()
        if m.warm is not None
    }
    int8_bodies = bodies.pop(KIT_INT8, None)
    results: dict[str, Any] = {
        "generated_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "base_image": base,
        "baseline_base_image": next((c.base for c in contenders if c.name == BASELINE), None),
        "limits": {
            "memory_mb": limits.memory_mb,
            "timeout_s": limits.timeout_s,
            "cpus": measured["kit"].cold[0].cpus if measured["kit"].cold else limits.cpus,
        },
        "settings": {
            "cold_starts": cold_starts,
            "invokes": invokes,
            "warmup": WARMUP_INVOKES,
            "push": push,
            "single_event": events[0],
            "batch_event": events[1],
        },
        KIT: sides[KIT],
        BASELINE: sides.get(BASELINE),
        "ratios": ratio,
        "cold_start_breakdown": breakdown.report(
            floor_ms, {name: m.breakdown for name, m in measured.items()}
        ),
        "parity": same_labels(bodies),
        "notes": [
            NOISE_NOTE,
            "Warm durations are the emulator's REPORT Duration (what Lambda bills); the "
            "client's round trip through the emulator is in results.json beside them.",
        ],
    }
    results["targets"] = targets(sides[KIT], ratio)
    if BASELINE not in sides:
        results["parity"] = None
    elif not results["parity"]["same"]:
        results["notes"].append("The two sides disagree on some labels: check the baseline handler.")
    if int8_bodies is not None:
        add_int8(results, sides[KIT_INT8], labels_of(bodies[KIT]), labels_of(int8_bodies))
    write_results(results, out_dir)
    return results


def add_int8(results: dict[str, Any], side: dict[str, Any], fp32: list[str], int8: list[str]) -> None:
    """The int8 column: its figures, its ratios to the baseline and to the kit, its accuracy, its targets."""
    results[KIT_INT8] = side
    results["ratios_int8"] = ratios(side, results[BASELINE])
    results["ratios_int8_kit"] = ratios(side, results[KIT])
    results["int8_accuracy"] = int8_accuracy(quantized.read_accuracy(side["image_tag"]), fp32, int8)
    results["targets_int8"] = targets(side, results["ratios_int8"])
    results["notes"].append(
        "kit int8 is not pushed: its dependency and code layers are the kit's own (same digests), only "
        "the weights layer differs. Its accuracy: prepare's comparison with fp32 (from the manifest in "
        "the image) and the labels both containers gave for the bench texts."
    )


def write_results(results: dict[str, Any], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(
        json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (out_dir / "results.md").write_text(markdown(results), encoding="utf-8")


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m lambdakit bench", description=__doc__.splitlines()[0])
    parser.add_argument("--memory", type=int, default=None, help="MemorySize in MB (default: template.yaml)")
    parser.add_argument("--cold-starts", type=int, default=5, help="fresh containers per side (default 5)")
    parser.add_argument(
        "--invokes", type=int, default=200, help="warm invokes per event and side (default 200)"
    )
    parser.add_argument(
        "--push",
        choices=("both", "kit", "baseline", "none"),
        default="both",
        help="whose push cost to measure (the baseline's pushes move about 1.5 GB)",
    )
    parser.add_argument("--out", type=Path, default=None, help="default: build/bench/")
    parser.add_argument("--asset-image", default=None, help="default: <project>-assets at its content tag")
    parser.add_argument("--tag-prefix", default=TAG_PREFIX, help="repository prefix of the bench's images")
    parser.add_argument(
        "--quantize",
        action="store_true",
        help="add the kit with its int8 model (INFERENCE_PRECISION=int8), with its accuracy against fp32",
    )
    parser.add_argument(
        "--int8-asset-image",
        default=None,
        help="with --quantize: an asset image holding the int8 export (default: one made from the "
        "int8 export in the cache root, `INFERENCE_PRECISION=int8 nox -s prepare`)",
    )
    args = parser.parse_args(argv)
    if args.int8_asset_image and not args.quantize:
        raise ConfigError("--int8-asset-image needs --quantize.")
    if args.cold_starts < 1 or args.invokes < 1:
        raise ConfigError("--cold-starts and --invokes must be at least 1.")
    limits = template.load().limits
    emulation.require_native(limits.architecture, "make the kit's figures QEMU's")
    if args.memory is not None:
        limits = limits.with_memory(args.memory)
    console = Console(width=None if sys.stdout.isatty() else 160)  # seven columns with --quantize
    out = args.out or build_dir() / "bench"
    results = run_bench(
        limits,
        args.cold_starts,
        args.invokes,
        args.push,
        out,
        console,
        args.tag_prefix,
        args.asset_image,
        args.quantize,
        args.int8_asset_image,
    )
    print_table(results, console)
    console.print(f"wrote {out / 'results.json'} and {out / 'results.md'}")
    return 0
