"""Run the function image locally over the sample events (`commands/local.py` is `python -m lambdakit local`).

* Default: `sam local invoke InferenceFunction -e EVENT` for each event (extra arguments go to SAM).
* `--faithful`: run the image the way Lambda runs it, on the function's target (`config/target.py`: Lambda's
  rules and the settings of `template.yaml`), in the kit's one Lambda execution environment
  (`lambdakit.runtime.environment`: read-only root, tmpfs /tmp, no network, non-root uid, MemorySize without
  swap, CPU in proportion to MemorySize). It needs no root: any member of the `docker` group, Docker Desktop
  and the Dev Container run it. A summary table gives the cold start, each invoke's duration and the peak
  memory, and explains (`lambdakit.runtime.explain`) what Lambda would not
  allow: writes outside /tmp, network attempts and refused downloads, payloads over 6 MB, an init past the
  init limit (10 s on demand), out of time vs too much work, out of memory.
* `--snapstart`: the faithful run, then the same environment initialised once, checkpointed with CRIU and
  restored (`lambdakit.runtime.restore`); every event's restored answer must be byte-identical to the faithful
  one. A table gives checkpoint, restore and restore-to-first-answer ms beside the cold start.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lambdakit.config import template
from lambdakit.config.target import Target
from lambdakit.core import events as events_reader
from lambdakit.core import proc
from lambdakit.core.errors import BrokenEvent, CheckpointUnavailable, EmulatorFailed
from lambdakit.core.settings import REPO_ROOT
from lambdakit.images import emulation, sam
from lambdakit.runtime import explain, restore
from lambdakit.runtime.environment import (
    LAMBDA_UID,
    ExecutionEnvironment,
    Function,
    Invocation,
    container_name,
)

EVENTS_DIR = REPO_ROOT / "events"


def sample_events(paths: Sequence[str] = ()) -> list[Path]:
    events = [Path(p) for p in paths] if paths else sorted(EVENTS_DIR.glob("*.json"))
    missing = [str(p) for p in events if not p.is_file()]
    if missing:
        raise EmulatorFailed(f"Event file(s) not found: {', '.join(missing)}; pass paths to JSON files.")
    return events


def runnable_events(events: Sequence[Path]) -> tuple[list[Path], int]:
    """(the events Lambda would accept, how many are broken): each broken one is one line on stderr, and
    fails alone: the others still run."""
    good = []
    for event in events:
        try:
            events_reader.check(event)
        except BrokenEvent as exc:
            print(f"error: {exc} (not run; the other events still run)", file=sys.stderr, flush=True)
            continue
        good.append(event)
    return good, len(events) - len(good)


def sam_local_invoke_argv(
    event: Path, built_template: Path, function: str = template.FUNCTION_ID, extra: Sequence[str] = ()
) -> list[str]:
    return [
        sam.executable(),
        "local",
        "invoke",
        function,
        "--template-file",
        str(built_template),
        "--event",
        str(event),
        "--skip-pull-image",
        *extra,
    ]


def built_template(template_path: Path = template.TEMPLATE) -> Path:
    """Where `sam build` (run beside the template) writes the template that names the built image."""
    built = template_path.parent / ".aws-sam" / "build" / "template.yaml"
    if not built.is_file():
        raise EmulatorFailed(
            f"{built} is missing; run `nox -s build` first (sam local invoke runs the built image)."
        )
    return built


def sam_local_invoke(event: Path, template_path: Path = template.TEMPLATE, extra: Sequence[str] = ()) -> str:
    """The function's response to EVENT from `sam local invoke` (SAM's own emulator container)."""
    argv = sam_local_invoke_argv(event.resolve(), built_template(template_path), extra=extra)
    return proc.run(
        argv, f"sam local invoke ({event.name})", env=sam.environment(), cwd=template_path.parent
    ).strip()


def run_sam_local(
    events: Sequence[Path], template_path: Path = template.TEMPLATE, extra: Sequence[str] = ()
) -> int:
    for event in events:
        print(f"# sam local invoke {template.FUNCTION_ID} -e {event}", flush=True)
        print(sam_local_invoke(event, template_path, extra), flush=True)
    return 0


def run_faithful(
    image: str,
    limits: Target,
    events: Sequence[Path],
    container_prefix: str,
    platform: str | None = None,
) -> tuple[list[Invocation], dict[str, Any]]:
    """Invoke each event in one warm environment (the first invoke is the cold start), its containers named
    under CONTAINER_PREFIX (the project's); results and stats."""
    function = Function(
        image, limits, environment=emulation.environment(limits.architecture), platform=platform
    )
    with ExecutionEnvironment.start(function, container_name(container_prefix)) as env:
        results = []
        for event in events:
            result = env.invoke(event.read_bytes(), name=event.name)
            results.append(result)
            print(f"# {event.name} → {result.outcome}", flush=True)
            print(
                result.body if result.outcome != "ok" else json.dumps(result.payload, ensure_ascii=False),
                flush=True,
            )
        explain.notes_for(results, limits, home=env.home())
        stats = {
            "cold_start_ms": env.cold_start_ms,
            "init_duration_ms": env.init_duration_ms(),
            "peak_memory_bytes": env.peak_memory_bytes(),
            "runtime_peak_rss_bytes": env.runtime_peak_rss_bytes(),
        }
    return results, stats


def run_snapstart(image: str, limits: Target, events: Sequence[Path], container_prefix: str) -> int:
    """The faithful run, then the restored one over the same events, the containers named under
    CONTAINER_PREFIX: 0 when every answer is the same."""
    function = Function(image, limits)
    why = restore.refusal(function)
    if why is not None:
        raise CheckpointUnavailable(why)
    faithful, stats = run_faithful(image, limits, events, container_prefix)
    env, times = restore.start(function, container_name(container_prefix))
    with env:
        restored = [env.invoke(event.read_bytes(), name=event.name) for event in events]
        first_answer_ms = env.cold_start_ms
        restore_report_ms = restore.restore_duration_ms(env.logs())
    different = [r.name for f, r in zip(faithful, restored, strict=True) if not same_answer(f, r)]
    print_snapstart_summary(faithful, restored, stats, times, first_answer_ms, restore_report_ms)
    if different:
        print(f"error: the restored answers differ from the faithful run's for: {', '.join(different)}")
    return 1 if different or failed(restored) else 0


def same_answer(faithful: Invocation, restored: Invocation) -> bool:
    """Byte-identical bodies; a runtime error's requestId differs between any two runs, so it is left out."""
    if faithful.status != restored.status:
        return False
    if faithful.outcome == restored.outcome == "function error":
        return {**faithful.payload, "requestId": None} == {**restored.payload, "requestId": None}
    return faithful.body == restored.body


def print_snapstart_summary(
    faithful: Sequence[Invocation],
    restored: Sequence[Invocation],
    stats: Mapping[str, Any],
    times: restore.RestoreTimes,
    first_answer_ms: float | None,
    restore_report_ms: float | None,
) -> None:
    from rich.console import Console
    from rich.table import Table

    user = "uid 0 (no capabilities)" if times.user == restore.ROOT_USER else f"uid {LAMBDA_UID}"
    caption = f"duration: the restored invoke's; the restored function ran as {user}"
    table = Table(title="SnapStart, restored locally (CRIU)", caption=caption)
    for column in ("event", "faithful", "restored", "same answer", "duration ms"):
        table.add_column(column, no_wrap=True, justify="right" if "ms" in column else "left")
    for f, r in zip(faithful, restored, strict=True):
        same = "[green]yes[/green]" if same_answer(f, r) else "[red]no[/red]"
        table.add_row(f.name, f.outcome, r.outcome, same, _ms(r.duration_ms))
    console = Console()
    console.print(table)
    console.print(
        f"init before the snapshot {_ms(times.init_ms)} ms; checkpoint {_ms(times.checkpoint_ms)} ms; "
        f"restore {_ms(times.restore_ms)} ms; restore -> first answer {_ms(first_answer_ms)} ms "
        f"(after-restore hooks {_ms(restore_report_ms)} ms); "
        f"faithful cold start {_ms(stats.get('cold_start_ms'))} ms"
    )


def faithful_limits(limits: Target) -> Target:
    """LIMITS; under QEMU (another architecture) with a longer Timeout, said once."""
    if not emulation.is_emulated(limits.architecture):
        return limits
    emulation.require_for_function(limits.architecture)
    relaxed = emulation.relaxed(limits)
    print(
        f"# {limits.architecture} under QEMU emulation ({emulation.environment(limits.architecture)}): "
        "this proves the image loads and answers; its times are QEMU's, not Lambda's "
        f"(Timeout {limits.timeout_s} s -> {relaxed.timeout_s} s here)",
        flush=True,
    )
    return relaxed


def print_summary(results: Sequence[Invocation], stats: Mapping[str, Any], limits: Target) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title="Lambda-faithful run"
        + (" under QEMU: times are not Lambda's" if emulation.is_emulated(limits.architecture) else ""),
        caption=f"{limits.memory_mb} MB, {limits.cpus:.2f} vCPU, timeout "
        f"{limits.timeout_s} s, /tmp {limits.ephemeral_mb} MB, read-only, no network, uid {LAMBDA_UID}",
    )
    table.add_column("event", no_wrap=True)
    table.add_column("outcome", no_wrap=True)
    table.add_column("duration ms", justify="right")
    table.add_column("round trip ms", justify="right")
    table.add_column("answer")
    for result in results:
        style = (
            "green" if result.outcome == "ok" else "yellow" if result.outcome == "error response" else "red"
        )
        table.add_row(
            result.name,
            f"[{style}]{result.outcome}[/{style}]",
            _ms(result.duration_ms),
            _ms(result.client_ms),
            _answer(result),
        )
    console = Console()
    console.print(table)
    console.print(
        f"cold start (container start → first answer): {_ms(stats.get('cold_start_ms'))} ms; "
        f"init duration (RIE INIT REPORT): {_ms(stats.get('init_duration_ms'))} ms"
    )
    console.print(peak_memory_line(results, stats, limits))
    for note in dict.fromkeys(note for result in results for note in result.explanations):
        console.print(f"[red]✗[/red] {note}")
    for note in dict.fromkeys(note for result in results for note in result.notes):
        console.print(f"[yellow]![/yellow] {note}")


def peak_memory_line(results: Sequence[Invocation], stats: Mapping[str, Any], limits: Target) -> str:
    """After an out-of-memory kill the live runtime is a fresh one: the killed one's peak comes first."""
    killed = [r for r in results if r.outcome == "out of memory"]
    live = f"{_mb(stats.get('runtime_peak_rss_bytes'))} MB runtime peak RSS"
    if killed:
        peak = max((r.peak_memory_bytes or 0 for r in killed), default=0) or stats.get("peak_memory_bytes")
        return (
            f"peak memory: {_mb(peak)} MB when the runtime was killed during {killed[-1].name} (cgroup, page "
            f"cache included; limit {limits.memory_mb} MB); {live} of the runtime restarted after it"
        )
    return (
        f"peak memory: {_mb(stats.get('peak_memory_bytes'))} MB container cgroup (page cache included), "
        f"{live}; limit {limits.memory_mb} MB"
    )


def _answer(result: Invocation) -> str:
    """The label(s) of an answer shaped as the demo's, else the start of the body as it is (another
    function's `results` need not carry a `label`)."""
    payload = result.payload
    if isinstance(payload, dict) and "label" in payload:
        return str(payload["label"])
    items = payload.get("results") if isinstance(payload, dict) else None
    if isinstance(items, list) and items and all(isinstance(i, dict) and "label" in i for i in items):
        return ", ".join(str(item["label"]) for item in items)
    if isinstance(payload, dict) and "body" in payload:
        with contextlib.suppress(json.JSONDecodeError, TypeError):
            return _answer(Invocation(result.name, result.status, str(payload["body"]), 0))
    text = result.body.replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _mb(value: int | None) -> str:
    return "-" if value is None else f"{value / 2**20:.0f}"


def failed(results: Sequence[Invocation]) -> bool:
    """Error responses are answers; anything Lambda would have failed or refused is a failure of the run."""
    return any(result.failed or result.explanations for result in results)
