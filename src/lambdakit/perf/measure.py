"""Measure a function image the way Lambda runs it: cold start, warm durations, peak memory.

One measured run = one fresh execution environment:

1. a client container starts first, with `--network none` (only loopback), running `measure_client`:
   it prints `ready` and polls 127.0.0.1:8080;
2. the clock starts, and the function container is created and started with `emulate`'s Lambda-faithful
   options (`--read-only`, tmpfs /tmp, non-root uid, --memory = --memory-swap = MemorySize, --cpus =
   MemorySize/1769, ...) but in the CLIENT's network namespace (`--network container:CLIENT`): it has no
   network, exactly as with `--network none`, and the client is already waiting when it starts;
3. the client sends every phase's invokes over one keep-alive connection (no process per call) and
   prints its timings; cold start = clock start → first response (the emulator starts the runtime lazily,
   at the first request, so this spans the whole init);
4. the function's cgroup gives the peak memory, its log the emulator's INIT REPORT and per-invoke REPORT
   `Duration` (what Lambda bills); both containers are removed on every exit path.
"""

from __future__ import annotations

import json
import math
import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import docker.errors

from lambdakit.config.template import Limits
from lambdakit.core.errors import EmulatorFailed
from lambdakit.images import engine
from lambdakit.runtime import local

CONTAINER_LABEL = "io.lambdakit.measure"
START_TIMEOUT_S = 180.0
ENGINE_CPU_FLOOR = 0.01

INIT_REPORT = re.compile(r"INIT REPORT\(durationMs: (?P<ms>[0-9.]+)\)")
REPORT = re.compile(
    r"^REPORT RequestId: \S+\s+(?:Init Duration: (?P<init>[0-9.]+) ms\s+)?Duration: (?P<ms>[0-9.]+) ms",
    re.MULTILINE,
)
CGROUP_PEAK_FILES = ("/sys/fs/cgroup/memory.peak", "/sys/fs/cgroup/memory/memory.max_usage_in_bytes")


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


def client_source() -> str:
    return resources.files("lambdakit.runtime").joinpath("client.py").read_text(encoding="utf-8")


def effective_cpus(limits: Limits, host_cpus: int) -> float:
    """MemorySize/1769 CPUs, capped at what the host has (Docker refuses more)."""
    return round(max(ENGINE_CPU_FLOOR, min(limits.cpus, float(host_cpus))), 3)


def function_run_kwargs(
    image: str, limits: Limits, cpus: float, network_of: str, name: str
) -> dict[str, Any]:
    """`emulate`'s Lambda-faithful container, in the client's network namespace (loopback only, as `none`)."""
    options = local.container_options(image, limits, name)
    options["network_mode"] = f"container:{network_of}"
    options["nano_cpus"] = int(cpus * 1_000_000_000)
    options["labels"] = {**options["labels"], CONTAINER_LABEL: "function"}
    return options


def client_run_kwargs(image: str, plan: dict[str, Any], name: str) -> dict[str, Any]:
    return {
        "image": image,
        "name": name,
        "entrypoint": ["python3", "-c", client_source()],
        "command": [json.dumps(plan)],
        "detach": True,
        "network_mode": "none",
        "labels": {CONTAINER_LABEL: "client"},
    }


def plan_for(phases: Sequence[Phase], start_timeout_s: float, invoke_timeout_s: float) -> dict[str, Any]:
    return {
        "port": local.RIE_PORT,
        "start_timeout_s": start_timeout_s,
        "invoke_timeout_s": invoke_timeout_s,
        "phases": [{"name": p.name, "event": p.event, "count": p.count} for p in phases],
    }


def parse_init_report(log_text: str) -> float | None:
    match = INIT_REPORT.search(log_text)
    return float(match["ms"]) if match else None


def parse_reports(log_text: str) -> list[tuple[float, float | None]]:
    """(Duration, Init Duration or None) of every REPORT line, in order."""
    return [(float(m["ms"]), float(m["init"]) if m["init"] else None) for m in REPORT.finditer(log_text)]


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
    limits: Limits,
    phases: Sequence[Phase],
    client_image: str,
    start_timeout_s: float = START_TIMEOUT_S,
    probe: Sequence[str] | None = None,
) -> RunResult:
    """One fresh, Lambda-faithful container of IMAGE; the first phase's first invoke is the cold start.

    PROBE, if given, runs in the function container after the memory was read (e.g. to ask how many
    threads its runtime chose under this CPU quota); its output is kept as `probe_output`.
    """
    docker_client = engine.client()
    cpus = effective_cpus(limits, int(docker_client.info().get("NCPU") or 1))
    suffix = uuid.uuid4().hex[:8]
    plan = plan_for(phases, start_timeout_s, float(limits.timeout_s) + 5)
    client = function = None
    try:
        client = docker_client.containers.run(
            **client_run_kwargs(client_image, plan, f"lambdakit-measure-client-{suffix}")
        )
        _wait_for_ready(client, start_timeout_s)
        started = time.time()
        function = docker_client.containers.run(
            **function_run_kwargs(image, limits, cpus, str(client.id), f"lambdakit-measure-fn-{suffix}")
        )
        outcome = _client_outcome(
            client, start_timeout_s + sum(p.count for p in phases) * plan["invoke_timeout_s"]
        )
        function.reload()
        oom = bool(function.attrs.get("State", {}).get("OOMKilled"))
        if "error" in outcome:
            raise EmulatorFailed(_failure_message(image, limits, outcome["error"], function, oom))
        peak, rss = _memory(function)
        log_text = function.logs(stdout=True, stderr=True).decode("utf-8", "replace")
        result = _result(image, limits, cpus, phases, outcome, started, log_text, peak, rss, oom)
        if probe:
            code, output = function.exec_run(list(probe), user=f"{local.LAMBDA_UID}:{local.LAMBDA_GID}")
            result.probe_output = (
                output.decode("utf-8", "replace").strip().splitlines()[-1] if code == 0 else None
            )
        return result
    except docker.errors.APIError as exc:
        raise EmulatorFailed(
            f"The engine could not run {image} for measuring: {exc.explanation or exc}"
        ) from exc
    finally:
        for container in (function, client):
            if container is not None:
                _remove(container)


def _result(
    image: str,
    limits: Limits,
    cpus: float,
    phases: Sequence[Phase],
    outcome: dict[str, Any],
    started: float,
    log_text: str,
    peak: float | None,
    rss: float | None,
    oom: bool,
) -> RunResult:
    reports = parse_reports(log_text)
    shares = split_durations([duration for duration, _ in reports], [p.count for p in phases])
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
        image=image,
        memory_mb=limits.memory_mb,
        cpus=cpus,
        cold_start_ms=(outcome["phases"][0]["first_response_at"] - started) * 1000,
        port_ready_ms=(outcome["port_ready_at"] - started) * 1000,
        init_report_ms=parse_init_report(log_text),
        report_init_ms=reports[0][1] if reports else None,
        phases=results,
        peak_memory_mb=peak,
        rss_mb=rss,
        oom_killed=oom,
        notes=notes,
    )


def _wait_for_ready(client: Any, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        output = client.logs(stdout=True, stderr=True)
        if b"ready" in output:
            return
        client.reload()
        if client.status == "exited":
            raise EmulatorFailed(
                f"The measuring client exited early: {output.decode(errors='replace')[-300:]}"
            )
        time.sleep(0.01)
    raise EmulatorFailed(
        f"The measuring client did not start within {timeout_s:.0f} s; is the engine overloaded?"
    )


def _client_outcome(client: Any, timeout_s: float) -> dict[str, Any]:
    try:
        client.wait(timeout=math.ceil(timeout_s))
    except Exception as exc:  # the SDK raises requests' ReadTimeout or ConnectionError here
        raise EmulatorFailed(
            f"The invokes did not finish within {timeout_s:.0f} s ({type(exc).__name__})."
        ) from exc
    lines = client.logs(stdout=True, stderr=False).decode("utf-8", "replace").strip().splitlines()
    try:
        outcome: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        return {"error": f"the client printed no result: {' | '.join(lines[-3:])}"}
    return outcome


def _memory(function: Any) -> tuple[float | None, float | None]:
    """Peak usage of the container's memory cgroup (page cache included, as the limit counts it) and RSS."""
    stats = function.stats(stream=False, one_shot=True).get("memory_stats") or {}
    inner = stats.get("stats") or {}
    rss = inner.get("total_rss", inner.get("rss", inner.get("anon")))
    peak = stats.get("max_usage")
    if peak is None:  # cgroup v2 has no max_usage in the stats API: ask the cgroup itself
        peak = _cgroup_peak(function)
    return _mb(peak), _mb(rss)


def _cgroup_peak(function: Any) -> int | None:
    for path in CGROUP_PEAK_FILES:
        code, output = function.exec_run(["cat", path], user=f"{local.LAMBDA_UID}:{local.LAMBDA_GID}")
        if code == 0 and output.strip().isdigit():
            return int(output.strip())
    return None


def _mb(value: Any) -> float | None:
    return round(int(value) / 1024 / 1024, 1) if value is not None else None


def _failure_message(image: str, limits: Limits, error: str, function: Any, oom: bool) -> str:
    if oom:
        return (
            f"{image} ran out of memory at MemorySize {limits.memory_mb} MB (the cgroup killed it); "
            "measure with more memory."
        )
    tail = function.logs(tail=5).decode("utf-8", "replace").strip().replace("\n", " | ")
    return f"Measuring {image} failed ({error}); the function's last log lines: {tail or 'none'}"


def _remove(container: Any) -> None:
    try:
        container.remove(force=True)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError:
        pass  # already being removed by the engine
