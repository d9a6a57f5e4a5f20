"""The bench's table (terminal and `results.md`) and the files it writes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from lambdakit.console import human_bytes
from lambdakit.perf.bench.results import BenchResults, Goal, Ratios, Side, document

Row = tuple[str, ...]
Show = Callable[[Side], str]

BREAKDOWN_PARTS = (
    ("runtime start (container, emulator, interpreter)", "runtime_start_ms"),
    ("runtime client's imports", "runtime_imports_ms"),
    ("imports (what the handler's module imports)", "imports_ms"),
    ("init code (the module's own top level: model load)", "init_code_ms"),
    ("first invoke (REPORT Duration)", "first_invoke_ms"),
    ("cold start of this run (with -X importtime)", "cold_start_ms"),
)


def write_results(results: BenchResults, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(
        json.dumps(document(results), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (out_dir / "results.md").write_text(markdown(results), encoding="utf-8")


def markdown(results: BenchResults) -> str:
    names = columns(results)
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows(results)]
    lines += breakdown_lines(results)
    for title, _, goals in target_tables(results):
        lines += ["", f"| {title} | measured | met |", "|---|---|---|"]
        lines += [f"| {t.target} | {_fmt_target(t)} | {_met(t.met)} |" for t in goals]
    lines += [
        "",
        f"MemorySize {results.limits.memory_mb} MB, {results.limits.cpus} CPU; "
        f"{results.settings.cold_starts} cold starts and {results.settings.invokes} warm invokes each; "
        f"machine: {results.machine.cpu}, {results.machine.cores} cores.",
        "",
        *[f"- {note}" for note in results.notes],
    ]
    return "\n".join(lines) + "\n"


def target_tables(results: BenchResults) -> list[tuple[str, str, list[Goal]]]:
    """(column title in results.md, table title on the terminal, targets) for the kit, and its int8."""
    tables = [("target", "targets", results.targets)]
    int8 = [("target (kit int8)", "targets, kit int8", results.int8.targets)] if results.int8 else []
    snapstart = results.snapstart_targets
    return tables + int8 + ([("target (SnapStart)", "targets, SnapStart", snapstart)] if snapstart else [])


def breakdown_lines(results: BenchResults) -> list[str]:
    """The cold start's parts per side, beside the empty handler's cold start (the floor)."""
    sides = {name: part.as_dict() if part else None for name, part in results.breakdowns.items()}
    if not sides:
        return []
    lines = ["", "| cold start, part | " + " | ".join(sides) + " |", "|---|" + "---|" * len(sides)]
    for label, key in BREAKDOWN_PARTS:
        lines.append(f"| {label} | " + " | ".join(_ms(p[key] if p else None) for p in sides.values()) + " |")
    floor = _ms(results.floor_cold_start_ms)
    lines.append(f"| floor: an empty handler on the same base (median) | {floor} |")
    return lines


def figures() -> list[tuple[str, Show, str | None]]:
    """Each table row: its title, how a side's figure reads, and the ratio shown beside it (if any)."""
    rows: list[tuple[str, Show, str | None]] = [
        ("cold start (start → first response, median)", lambda s: _ms(s.cold.median), "cold_start"),
        ("emulator INIT REPORT (median)", lambda s: _ms(s.cold.init_report_median), None),
        (
            "SnapStart, restored (CRIU): restore → first response (median)",
            lambda s: _ms(s.restored.median if s.restored else None),
            "snapstart_restored",
        ),
        ("SnapStart, restored / its own cold start", lambda s: _x(s.restored_to_cold), None),
    ]
    for phase, title in (("single", "one short text"), ("batch8", "batch of 8")):
        for q in ("p50", "p95", "p99"):
            rows.append(
                (f"warm {q}, {title}", _warm_ms(phase, q), f"warm_{phase}_p50" if q == "p50" else None)
            )
    rows += [
        ("peak memory (cgroup)", lambda s: f"{s.peak_memory_mb} MB", "peak_memory"),
        ("image total", lambda s: _bytes(s.image.total_bytes), "image_total"),
        ("image above base", lambda s: _bytes(s.image.above_base_bytes), "image_above_base"),
        ("weights layer", lambda s: _bytes(s.image.weights_bytes), None),
        ("push after code-only change", lambda s: _bytes(s.push_bytes("code_only")), "push_code_only"),
        (
            "push after dependency-only change",
            lambda s: _bytes(s.push_bytes("dependency_only")),
            "push_dependency_only",
        ),
        ("weights re-uploaded (code / deps change)", _weights, None),
        ("threads in the container", lambda s: str(s.threads), None),
    ]
    return rows


def columns(results: BenchResults) -> list[str]:
    if results.baseline is None:
        return ["figure", "your function"]
    names = ["figure", "kit (ONNX Runtime)", "baseline (torch)", "kit / baseline"]
    return names + (["kit int8", "int8 / baseline", "int8 / kit"] if results.int8 else [])


def table_rows(results: BenchResults) -> list[Row]:
    kit, base, int8 = results.kit, results.baseline, results.int8
    if base is None:
        return [(title, show(kit)) for title, show, _ in figures()]
    rows: list[Row] = []
    for title, show, key in figures():
        row = [title, show(kit), show(base), _ratio(results.ratios, key)]
        if int8 is not None:
            row += [show(int8.side), _ratio(int8.ratios, key), _ratio(int8.ratios_to_kit, key)]
        rows.append(tuple(row))
    return rows + (accuracy_rows(int8.accuracy) if int8 is not None else [])


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


def print_table(results: BenchResults, console: Console) -> None:
    versus = " vs baseline" if results.baseline is not None else ""
    table = Table(title=f"bench: kit{versus} at {results.limits.memory_mb} MB")
    for column in columns(results):
        table.add_column(column, justify="left" if column == "figure" else "right")
    for row in table_rows(results):
        table.add_row(*row)
    console.print(table)
    for _, title, goals in target_tables(results):
        goal_table = Table(title=title)
        for column in ("target", "measured", "met"):
            goal_table.add_column(column)
        for target in goals:
            goal_table.add_row(target.target, _fmt_target(target), _met(target.met).strip("*"))
        console.print(goal_table)
    for note in results.notes:
        console.print(f"note: {note}")


def _ratio(ratios: Ratios, key: str | None) -> str:
    return _x(getattr(ratios, key)) if key else ""


def _warm_ms(phase: str, q: str) -> Show:
    return lambda side: _ms(side.warm_ms(phase, q))


def _weights(side: Side) -> str:
    flags = side.push.weights_reuploaded if side.push else []
    return " / ".join("yes" if flag else "no" for flag in flags) if flags else "—"


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f} ms"


def _bytes(value: float | None) -> str:
    return "—" if value is None else human_bytes(value)


def _x(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}x"


def _fmt_target(target: Goal) -> str:
    if isinstance(target.value, float):
        return f"{target.value:,.3f}"
    return str(target.value)


def _met(met: bool | None) -> str:
    return "not measured" if met is None else ("yes" if met else "**no**")
