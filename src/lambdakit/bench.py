"""`python -m lambdakit bench` (`nox -s bench`): the kit's function beside the usual torch approach.

Both images run the same pipeline on the same base, under the same Lambda-faithful limits (MemorySize from
template.yaml unless --memory; CPU = MemorySize/1769), measured in one run and alternating:

* cold start: fresh container start → first response, and the emulator's INIT REPORT; median of N each;
* warm duration: p50/p95/p99 over N invokes of one short text and of a batch of 8 (the emulator's REPORT
  `Duration`, what Lambda bills; the client's round trip beside it);
* peak memory of the container's cgroup; image size, total and above the base, per layer;
* push cost to a local registry after a code-only and a dependency-only change, and whether the weights'
  layer went up again.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from lambdakit import baseline, docker_engine, images, measure, pushcost, stats, template
from lambdakit.errors import ConfigError
from lambdakit.settings import REPO_ROOT, base_image, build_dir

TAG_PREFIX = "lambdakit-bench"
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


@dataclass
class Measured:
    cold: list[measure.RunResult] = field(default_factory=list)
    warm: measure.RunResult | None = None
    threads: str | None = None


def pin_base(base: str, prefix: str) -> str:
    """Tag the base under the bench's own name: every image of one run builds on the same base even if the
    shared tag is rebuilt meanwhile (the push figures would otherwise count new base layers)."""
    docker_engine.require_image(base, "run `nox -s base-image` (or pull the AWS base)")
    docker_engine.tag_image(base, f"{prefix}/base", "pinned")
    return f"{prefix}/base:pinned"


def build_contenders(
    base: str, log: Log, prefix: str = TAG_PREFIX, asset: str | None = None
) -> list[Contender]:
    """Build (or reuse through Docker's cache) the kit's function image and the baseline, on one base."""
    inputs = images.resolve_inputs(base=base, asset=asset)
    kit_tag = f"{prefix}/kit:latest"
    # A context of the bench's own, so a bench never races `nox -s build` over build/function/.
    staged = images.stage(
        context=build_dir() / "bench" / "kit-context", glibc=images.base_glibc(base), log=log
    )
    log(f"docker build {kit_tag} (base {inputs.base_image}, assets {inputs.asset_image})")
    images.build_image(kit_tag, inputs, context=staged.context)
    baseline_tag = baseline.build(base, tag=f"{prefix}/baseline:latest", log=log)
    baseline_context = baseline.stage(log=log).context
    return [
        Contender(
            name="kit",
            image=kit_tag,
            context=staged.context,
            dockerfile=REPO_ROOT / "Dockerfile",
            code_file=_relative_file(staged.context / "code", "inference/handler.py"),
            deps_dir=_deepest_single_path(staged.context, "deps"),
            weights_marker=r"--from",
            thread_probe=[
                "python3",
                "-c",
                "from inference.pipeline import cpu_threads; print(cpu_threads())",
            ],
            build_args=inputs.build_args(),
        ),
        Contender(
            name="baseline",
            image=baseline_tag,
            context=baseline_context,
            dockerfile=baseline.BASELINE_DIR / "Dockerfile",
            code_file="code/app.py",
            deps_dir="deps",
            weights_marker=r"\bmodel/",
            thread_probe=["python3", "-c", "import torch; print(torch.get_num_threads())"],
            build_args={"BASE_IMAGE": base},
        ),
    ]


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


def warm_phases(invokes: int) -> list[measure.Phase]:
    return [
        measure.Phase("cold", SINGLE_EVENT, 1),
        measure.Phase("warmup", SINGLE_EVENT, WARMUP_INVOKES),
        measure.Phase("single", SINGLE_EVENT, invokes),
        measure.Phase("warmup-batch", BATCH_EVENT, WARMUP_INVOKES),
        measure.Phase("batch8", BATCH_EVENT, invokes),
    ]


def measure_all(
    contenders: Sequence[Contender],
    limits: template.Limits,
    cold_starts: int,
    invokes: int,
    client_image: str,
    log: Log,
) -> dict[str, Measured]:
    """Cold starts alternate kit, baseline, kit, ...; then one warm container each, in the same order."""
    results = {c.name: Measured() for c in contenders}
    for contender in contenders:  # not counted: the first start after a build reads the layers from disk
        log(f"priming run of {contender.name} (not counted)")
        measure.run(contender.image, limits, [measure.Phase("cold", SINGLE_EVENT, 1)], client_image)
    for round_ in range(1, cold_starts + 1):
        for contender in contenders:
            run = measure.run(contender.image, limits, [measure.Phase("cold", SINGLE_EVENT, 1)], client_image)
            results[contender.name].cold.append(run)
            log(f"cold start {round_}/{cold_starts} {contender.name}: {run.cold_start_ms:.0f} ms")
    for contender in contenders:
        log(f"warm: {invokes} invokes of one text and {invokes} of a batch of 8, {contender.name}")
        run = measure.run(
            contender.image, limits, warm_phases(invokes), client_image, probe=contender.thread_probe
        )
        results[contender.name].warm = run
        results[contender.name].threads = run.probe_output
    return results


def image_report(tag: str, base: str) -> dict[str, Any]:
    """Total size, size above the base image, and each layer above the base."""
    image = docker_engine.require_image(tag, "build it first")
    base_image_ = docker_engine.require_image(base, "run `nox -s base-image` (or pull the base)")
    base_layers = len(base_image_.attrs["RootFS"]["Layers"])
    layers = docker_engine.layers(tag)
    above = [
        {"digest": layer.diff_id[7:19], "instruction": layer.created_by, "bytes": layer.size}
        for layer in layers[base_layers:]
    ]
    total, base_size = int(image.attrs["Size"]), int(base_image_.attrs["Size"])
    return {
        "total_bytes": total,
        "base_bytes": base_size,
        "above_base_bytes": total - base_size,
        "base_layers": base_layers,
        "layers_above_base": above,
    }


def measure_pushes(
    contenders: Sequence[Contender], sizes: dict[str, dict[str, Any]], log: Log
) -> dict[str, Any]:
    """Initial push, then a code-only and a dependency-only change, per contender, into one fresh registry."""
    results: dict[str, Any] = {}
    work = build_dir() / "bench" / "variants"
    with pushcost.local_registry(log) as registry:
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
                docker_engine.remove_image(image)
    shutil.rmtree(work, ignore_errors=True)
    return results


def _variant(contender: Contender, kind: str, context: Path, log: Log) -> str:
    tag = f"{contender.image.rsplit(':', 1)[0]}:{kind}-change"
    log(f"docker build {tag}")
    docker_engine.build(context, tag, dockerfile=str(contender.dockerfile), buildargs=contender.build_args)
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


def ratios(kit: dict[str, Any], base: dict[str, Any]) -> dict[str, float | None]:
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
    labels: dict[str, list[str]] = {}
    for side, bodies in warm_bodies.items():
        found: list[str] = []
        for body in bodies.values():
            answer = json.loads(body or "{}")
            found += [item.get("label", "?") for item in answer.get("results", [answer])]
        labels[side] = found
    values = list(labels.values())
    return {"labels": labels, "same": all(v == values[0] for v in values[1:])}


def machine_info() -> dict[str, Any]:
    info = docker_engine.client().info()
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
    rows = table_rows(results)
    lines = ["| figure | kit (ONNX Runtime) | baseline (torch) | kit / baseline |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    lines += ["", "| target | measured | met |", "|---|---|---|"]
    lines += [f"| {t['target']} | {_fmt_target(t)} | {_met(t['met'])} |" for t in results["targets"]]
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


def table_rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    kit, base, ratio = results["kit"], results["baseline"], results["ratios"]

    def ms(value: float | None) -> str:
        return "—" if value is None else f"{value:,.1f} ms"

    def mb(value: float | None) -> str:
        return "—" if value is None else f"{value / 1e6:,.1f} MB"

    def x(value: float | None) -> str:
        return "—" if value is None else f"{value:.3f}x"

    def warm(side: dict[str, Any], phase: str, q: str) -> float | None:
        entry = side.get(phase) or {}
        series = entry.get("duration_ms") or entry.get("round_trip_ms")
        return float(series[q]) if series else None

    rows = [
        (
            "cold start (start → first response, median)",
            ms(kit["cold_start_ms"]["median"]),
            ms(base["cold_start_ms"]["median"]),
            x(ratio["cold_start"]),
        ),
        (
            "emulator INIT REPORT (median)",
            ms(kit["cold_start_ms"]["init_report_median"]),
            ms(base["cold_start_ms"]["init_report_median"]),
            "",
        ),
    ]
    for phase, title in (("single", "one short text"), ("batch8", "batch of 8")):
        for q in ("p50", "p95", "p99"):
            rows.append(
                (
                    f"warm {q}, {title}",
                    ms(warm(kit, phase, q)),
                    ms(warm(base, phase, q)),
                    x(ratio[f"warm_{phase}_p50"]) if q == "p50" else "",
                )
            )
    rows += [
        (
            "peak memory (cgroup)",
            f"{kit.get('peak_memory_mb')} MB",
            f"{base.get('peak_memory_mb')} MB",
            x(ratio["peak_memory"]),
        ),
        (
            "image total",
            mb(kit["image"]["total_bytes"]),
            mb(base["image"]["total_bytes"]),
            x(ratio["image_total"]),
        ),
        (
            "image above base",
            mb(kit["image"]["above_base_bytes"]),
            mb(base["image"]["above_base_bytes"]),
            x(ratio["image_above_base"]),
        ),
        (
            "push after code-only change",
            _bytes(push_bytes(kit.get("push"), "code_only")),
            _bytes(push_bytes(base.get("push"), "code_only")),
            x(ratio["push_code_only"]),
        ),
        (
            "push after dependency-only change",
            _bytes(push_bytes(kit.get("push"), "dependency_only")),
            _bytes(push_bytes(base.get("push"), "dependency_only")),
            x(ratio["push_dependency_only"]),
        ),
        ("weights re-uploaded (code / deps change)", _weights(kit), _weights(base), ""),
        (
            "threads in the container",
            str(kit.get("threads_in_container")),
            str(base.get("threads_in_container")),
            "",
        ),
    ]
    return rows


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
    table = Table(title=f"bench: kit vs baseline at {results['limits']['memory_mb']} MB")
    for column in ("figure", "kit (ONNX Runtime)", "baseline (torch)", "kit / baseline"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    for row in table_rows(results):
        table.add_row(*row)
    console.print(table)
    goals = Table(title="targets")
    for column in ("target", "measured", "met"):
        goals.add_column(column)
    for target in results["targets"]:
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
) -> dict[str, Any]:
    def log(message: str) -> None:
        console.print(f"[dim]bench:[/dim] {message}")

    base = pin_base(base_image(), prefix)
    contenders = build_contenders(base, log, prefix, asset)
    sizes = {c.name: image_report(c.image, base) for c in contenders}
    measured = measure_all(contenders, limits, cold_starts, invokes, base, log)
    pushed_for = [c for c in contenders if push == "both" or c.name == push]
    pushes = measure_pushes(pushed_for, sizes, log) if pushed_for else {}
    sides = {}
    for contender in contenders:
        side = summary_of(measured[contender.name]) | {
            "image_tag": contender.image,
            "image": sizes[contender.name],
        }
        side["push"] = pushes.get(contender.name)
        sides[contender.name] = side
    ratio = ratios(sides["kit"], sides["baseline"])
    bodies = {
        name: {p: m.warm.phases[p].first_body for p in ("single", "batch8")}
        for name, m in measured.items()
        if m.warm is not None
    }
    results: dict[str, Any] = {
        "generated_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "base_image": base,
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
            "single_event": SINGLE_EVENT,
            "batch_event": BATCH_EVENT,
        },
        "kit": sides["kit"],
        "baseline": sides["baseline"],
        "ratios": ratio,
        "parity": same_labels(bodies),
        "notes": [
            NOISE_NOTE,
            "Warm durations are the emulator's REPORT Duration (what Lambda bills); the "
            "client's round trip through the emulator is in results.json beside them.",
        ],
    }
    results["targets"] = targets(sides["kit"], ratio)
    if not results["parity"]["same"]:
        results["notes"].append("The two sides disagree on some labels: check the baseline handler.")
    write_results(results, out_dir)
    return results


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
    args = parser.parse_args(argv)
    if args.cold_starts < 1 or args.invokes < 1:
        raise ConfigError("--cold-starts and --invokes must be at least 1.")
    limits = template.limits()
    if args.memory is not None:
        limits = limits.with_memory(args.memory)
    console = Console()
    out = args.out or build_dir() / "bench"
    results = run_bench(
        limits, args.cold_starts, args.invokes, args.push, out, console, args.tag_prefix, args.asset_image
    )
    print_table(results, console)
    console.print(f"wrote {out / 'results.json'} and {out / 'results.md'}")
    return 0
