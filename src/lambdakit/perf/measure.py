"""Measure a function image the way Lambda runs it: cold start, warm durations, peak memory.

One measured run = one fresh execution environment (`lambdakit.runtime.environment`):

1. the client container starts first, with `--network none` (only loopback), running the plan: it prints
   `ready` and polls 127.0.0.1:8080;
2. the clock starts, and the function container starts with Lambda's limits in the client's network
   namespace: it has no network, and the client is already waiting when the emulator begins to listen;
3. the client sends every phase's invokes over one keep-alive connection (no process per call) and prints
   its timings; cold start = clock start → first response (the emulator starts the runtime lazily, at the
   first request, so this spans the whole init);
4. the function's cgroup gives the peak memory, its log the emulator's INIT REPORT and per-invoke REPORT
   `Duration` (what Lambda bills); both containers are removed on every exit path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lambdakit.config.target import Target
from lambdakit.core.errors import EmulatorFailed
from lambdakit.runtime import emulator
from lambdakit.runtime.environment import ExecutionEnvironment, Function, container_name, plan_for

CONTAINER_LABEL = "io.lambdakit.measure"
START_TIMEOUT_S = 180.0


@dataclass(frozen=True)
class Phase:
    """COUNT invokes of EVENT, named for the report ("cold", "single", "batch8", ...)."""

    name: str
    event: Any
    count: int


@dataclass
class PhaseResult:
    name: str
    round_trip_ms: list[float]
    duration_ms: list[float]  # the emulator's REPORT Duration of each invoke (empty if the log lacked them)
    statuses: list[int]
    first_body: str | None


@dataclass
class RunResult:
    """One fresh container: its cold start, the phases' timings and its memory."""

    image: str
    memory_mb: int
    cpus: float
    cold_start_ms: float
    port_ready_ms: float
    init_report_ms: float | None
    report_init_ms: float | None
    phases: dict[str, PhaseResult]
    peak_memory_mb: float | None
    rss_mb: float | None
    oom_killed: bool = False
    notes: list[str] = field(default_factory=list)
    probe_output: str | None = None
    log: str = ""


def split_durations(reports: list[float], counts: Sequence[int]) -> list[list[float]]:
    """Cut the ordered REPORT durations into the phases' shares; empty lists when the log does not add up."""
    if len(reports) != sum(counts):
        return [[] for _ in counts]
    shares, start = [], 0
    for count in counts:
        shares.append(reports[start : start + count])
        start += count
    return shares


def run(
    image: str,
    limits: Target,
    phases: Sequence[Phase],
    client_image: str,
    container_prefix: str,
    start_timeout_s: float = START_TIMEOUT_S,
    probe: Sequence[str] | None = None,
    environment: Mapping[str, str] | None = None,
) -> RunResult:
    """One fresh, Lambda-faithful environment of IMAGE, its containers named under CONTAINER_PREFIX (the
    project's); the first phase's first invoke is the cold start.

    PROBE, if given, runs in the function container after the memory was read (e.g. to ask how many
    threads its runtime chose under this CPU quota); its output is kept as `probe_output`. ENVIRONMENT adds
    variables to the function's (PYTHONPROFILEIMPORTTIME for the cold start's breakdown); the function's
    log is kept as `log`.
    """
    steps = [{"name": p.name, "event": p.event, "count": p.count} for p in phases]
    plan = plan_for(steps, limits, start_timeout_s)
    function = Function(image, limits, environment=dict(environment or {}), labels={CONTAINER_LABEL: "1"})
    name = container_name(container_prefix)
    with ExecutionEnvironment.start(function, name, plan=plan, client_image=client_image) as env:
        outcome = env.plan_result(start_timeout_s + sum(p.count for p in phases) * plan["invoke_timeout_s"])
        oom = env.oom_killed()
        if "error" in outcome:
            raise EmulatorFailed(_failure_message(image, limits, outcome["error"], env, oom))
        peak, rss = env.peak_memory_bytes(), env.runtime_peak_rss_bytes()
        result = _result(env, phases, outcome, peak, rss, oom)
        if probe:
            result.probe_output = env.run_in_function(list(probe))
        return result


def _result(
    env: ExecutionEnvironment,
    phases: Sequence[Phase],
    outcome: dict[str, Any],
    peak: int | None,
    rss: int | None,
    oom: bool,
) -> RunResult:
    log = env.logs()
    reports = emulator.reports(log)
    shares = split_durations([report.duration_ms for report in reports], [p.count for p in phases])
    results = {}
    for phase, measured, durations in zip(phases, outcome["phases"], shares, strict=True):
        results[phase.name] = PhaseResult(
            name=phase.name,
            round_trip_ms=list(measured["round_trip_ms"]),
            duration_ms=durations,
            statuses=list(measured["statuses"]),
            first_body=measured["first_body"],
        )
    notes = [] if reports and shares[0] else ["the emulator's REPORT lines did not match the invokes sent"]
    return RunResult(
        image=env.function.image,
        memory_mb=env.function.limits.memory_mb,
        cpus=env.cpus,
        cold_start_ms=(outcome["phases"][0]["first_response_at"] - env.started) * 1000,
        port_ready_ms=(outcome["port_ready_at"] - env.started) * 1000,
        init_report_ms=emulator.init_duration_ms(log),
        report_init_ms=reports[0].init_ms if reports else None,
        phases=results,
        peak_memory_mb=_mb(peak),
        rss_mb=_mb(rss),
        oom_killed=oom,
        notes=notes,
        log=log,
    )


def _mb(value: int | None) -> float | None:
    return round(value / 1024 / 1024, 1) if value is not None else None


def _failure_message(image: str, limits: Target, error: str, env: ExecutionEnvironment, oom: bool) -> str:
    if oom:
        return (
            f"{image} ran out of memory at MemorySize {limits.memory_mb} MB (the cgroup killed it); "
            "measure with more memory."
        )
    tail = " | ".join(env.logs().strip().splitlines()[-5:])
    return f"Measuring {image} failed ({error}); the function's last log lines: {tail or 'none'}"
