"""The Lambda execution environment, locally: the one way the kit runs a function image the way Lambda does.

`nox -s local -- --faithful`, bench, tune and the rehearsal's invoke all start it here:

* the function container gets the function's target (`lambdakit.config.target.Target`, from template.yaml):
  read-only root, a tmpfs `/tmp` of the EphemeralStorage size, a non-root uid/gid, memory = MemorySize with
  no swap, CPU = MemorySize / the target's MB per vCPU, its process and open-file limits, no capabilities,
  Lambda's variables;
* it has no network: it joins the network namespace of a small client container started with `--network
  none` (only loopback), and the client (`lambdakit.runtime.client`) talks to the emulator on 127.0.0.1. No
  root, no `setns`, no published port: it works as any user of the `docker` group, on Docker Desktop and from
  inside the Dev Container (docker outside of docker);
* the answers are read by `lambdakit.runtime.emulator` (log lines, verdict); peak memory comes from the
  container's cgroup, read inside the container (the emulator's own `Max Memory Used` is not measured).

    with ExecutionEnvironment.start(Function(image, limits), container_name(project.container_prefix)) as env:
        answer = env.invoke({"text": "hi"})
        env.peak_memory_bytes()

Containers are named by the caller (`container_name(ProjectConfig.container_prefix)`: several checkouts share
one engine) and removed on every exit path.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import TracebackType
from typing import Any

from lambdakit.config import template
from lambdakit.config.target import Target
from lambdakit.core.errors import ContainerFailed, EmulatorFailed
from lambdakit.core.settings import LOCAL_REGION
from lambdakit.images import engine
from lambdakit.runtime import emulator

LAMBDA_UID, LAMBDA_GID = 993, 990  # any non-root ids: Lambda runs the function as an unprivileged user
LAMBDA_USER = f"{LAMBDA_UID}:{LAMBDA_GID}"
CONTAINER_LABEL = "io.lambdakit.runtime"
TMP = "/tmp"  # noqa: S108  (the one writable folder of a Lambda execution environment)
READY_TIMEOUT_S = 60.0  # the client container's start, and the emulator's (slow under QEMU for arm64)
CLIENT_MARGIN_S = 5  # the client waits this much longer than Timeout: the emulator answers a timeout itself
LOG_WAIT_S = 1.0
ENGINE_CPU_FLOOR = 0.01
CGROUP_PEAK_FILES = ("/sys/fs/cgroup/memory.peak", "/sys/fs/cgroup/memory/memory.max_usage_in_bytes")
# Largest VmHWM of the container's processes except this reader: the runtime (the emulator is ~10 MB).
PEAK_RSS_READER = """
import os, re
peaks = []
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        status = open(f"/proc/{pid}/status").read()
    except OSError:
        continue
    found = re.search(r"VmHWM:\\s+(\\d+) kB", status)
    if found and int(pid) != os.getpid():
        peaks.append(int(found.group(1)) * 1024)
print(max(peaks) if peaks else "")
"""


def container_name(prefix: str) -> str:
    """A fresh container name under PREFIX (the project's `container_prefix`)."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def lambda_environment(
    limits: Target, function_name: str = template.FUNCTION_ID, region: str = LOCAL_REGION
) -> dict[str, str]:
    """Variables Lambda sets in every execution environment: the function's own (the template's
    Environment), then the reserved ones the emulator and runtimes read (which a function cannot override)."""
    return {
        **dict(limits.variables),
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(limits.memory_mb),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(limits.timeout_s),
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }


def tmpfs_options(limits: Target) -> str:
    """Mount options of /tmp: EphemeralStorage-sized, writable by the function's user."""
    return f"rw,nosuid,nodev,size={limits.ephemeral_mb}m,mode=1777"


def effective_cpus(limits: Target, host_cpus: int) -> float:
    """The target's CPUs for its MemorySize, capped at what the host has (Docker refuses more)."""
    return round(max(ENGINE_CPU_FLOOR, min(limits.cpus, float(host_cpus))), 3)


@dataclass(frozen=True)
class Function:
    """What to run and how: the image, Lambda's limits, and what the caller adds."""

    image: str
    limits: Target
    environment: Mapping[str, str] = field(default_factory=dict)
    handler: str | None = None  # overrides the image's CMD
    platform: str | None = None  # e.g. linux/arm64 (needs the engine's binfmt handler for QEMU)
    labels: Mapping[str, str] = field(default_factory=dict)


def function_options(function: Function, name: str, network_of: str, cpus: float) -> dict[str, Any]:
    """Docker SDK `containers.run` arguments of a Lambda-faithful function container."""
    memory = f"{function.limits.memory_mb}m"
    options: dict[str, Any] = {
        "image": function.image,
        "command": [function.handler] if function.handler else None,
        "name": name,
        "read_only": True,
        "tmpfs": {TMP: tmpfs_options(function.limits)},
        "network_mode": f"container:{network_of}",  # the client's loopback only: no network, as on Lambda
        "user": LAMBDA_USER,
        "mem_limit": memory,
        "memswap_limit": memory,  # equal to the limit: no swap, as on Lambda
        "nano_cpus": int(cpus * 1_000_000_000),
        "pids_limit": function.limits.rules.max_processes,
        "ulimits": [engine.ulimit("nofile", function.limits.rules.max_open_files)],
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "environment": {**lambda_environment(function.limits), **function.environment},
        "labels": {CONTAINER_LABEL: "function", **function.labels},
    }
    return options | ({"platform": function.platform} if function.platform else {})


def client_options(function: Function, image: str, name: str, command: str) -> dict[str, Any]:
    """The client container: no network (loopback only), the invoke loop as its main process."""
    options: dict[str, Any] = {
        "image": image,
        "name": name,
        "entrypoint": ["python3", "-c", client_source()],
        "command": [command],
        "network_mode": "none",
        "labels": {CONTAINER_LABEL: "client", **function.labels},
    }
    return options | (
        {"platform": function.platform} if function.platform and image == function.image else {}
    )


def client_source() -> str:
    return resources.files("lambdakit.runtime").joinpath("client.py").read_text(encoding="utf-8")


def plan_for(phases: list[dict[str, Any]], limits: Target, start_timeout_s: float) -> dict[str, Any]:
    """The client's plan: wait up to START_TIMEOUT_S for the emulator, then each phase's invokes."""
    return {
        "port": emulator.PORT,
        "start_timeout_s": start_timeout_s,
        "invoke_timeout_s": limits.timeout_s + CLIENT_MARGIN_S,
        "phases": phases,
    }


@dataclass
class Invocation:
    """One event through the emulator: the answer, its timing, and what it means."""

    name: str
    status: int
    body: str
    client_ms: float
    duration_ms: float | None = None
    outcome: emulator.Outcome = "ok"
    request_bytes: int = 0
    log: str = ""
    explanations: list[str] = field(default_factory=list)  # what Lambda would fail, with the fix
    notes: list[str] = field(default_factory=list)  # worth a look, but Lambda would not fail the call
    peak_memory_bytes: int | None = None  # the cgroup's peak right after an out-of-memory kill

    @property
    def payload(self) -> Any:
        return emulator.decode(self.body)

    @property
    def failed(self) -> bool:
        """What Lambda reports as `FunctionError` (an error response is an answer, not a failure)."""
        return self.outcome in emulator.FAILED


class ExecutionEnvironment:
    """A running function container and its client; invokes go through the client, one at a time."""

    def __init__(self, function: Function, client: Any, container: Any, started: float, cpus: float) -> None:
        self.function = function
        self.cpus = cpus
        self.client = client
        self.container = container
        self.started = started  # wall clock just before the function container started
        self.cold_start_ms: float | None = None
        self._events = 0

    @classmethod
    def start(
        cls,
        function: Function,
        name: str,
        plan: dict[str, Any] | None = None,
        client_image: str | None = None,
    ) -> ExecutionEnvironment:
        """Start the client (`NAME-client`, running PLAN, else idle), then the function (NAME) in its network
        namespace."""
        engine.require_image(function.image, "run `nox -s build` first")
        client, cpus = start_client(function, name, plan, client_image)
        try:
            options = function_options(function, name, str(client.id), cpus)
            started = time.time()
            container = engine.start_container(options)
        except BaseException:
            engine.remove_container(client)
            raise
        return cls(function, client, container, started, cpus)

    def __enter__(self) -> ExecutionEnvironment:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self) -> None:
        for container in (self.container, self.client):
            engine.remove_container(container)

    # --- invokes through the idle client ------------------------------------------------------------------

    def invoke(self, event: Any, name: str = "event") -> Invocation:
        """Send one event (bytes as they are, anything else as JSON) and read what the answer means."""
        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        self._events += 1
        event_file = f"lambdakit-event-{self._events}.json"
        engine.put_file(self.client, TMP, event_file, body)
        mark = len(self.logs())
        plan = plan_for(
            [{"name": name, "count": 1, "event_file": f"{TMP}/{event_file}"}],
            self.function.limits,
            READY_TIMEOUT_S,
        )
        timeout_s = READY_TIMEOUT_S + plan["invoke_timeout_s"] + CLIENT_MARGIN_S
        argv = ["python3", "-c", client_source(), json.dumps(plan)]
        code, output = engine.exec_in(self.client, argv, timeout_s=timeout_s)
        (phase,) = self._client_result(output, code)["phases"]
        if self.cold_start_ms is None:
            self.cold_start_ms = (float(phase["first_response_at"]) - self.started) * 1000
        status, text = int(phase["statuses"][0]), str(phase["first_body"])
        log = self._log_of_invoke(mark, status)
        result = Invocation(
            name=name,
            status=status,
            body=text,
            client_ms=float(phase["round_trip_ms"][0]),
            duration_ms=emulator.invoke_duration_ms(log),
            outcome=emulator.verdict(status, text, log),
            request_bytes=len(body),
            log=log,
        )
        if result.outcome == "out of memory":
            result.peak_memory_bytes = self.peak_memory_bytes()
        return result

    def _client_result(self, output: str, code: int) -> dict[str, Any]:
        result = engine.last_json_line(output)
        if code == 0 and result is not None and "error" not in result:
            return result
        state = engine.container_state(self.container)
        tail = " | ".join(self.logs().strip().splitlines()[-3:]) or "no output"
        if state.get("Status") != "running":
            raise EmulatorFailed(
                f"The function container exited ({state.get('Status', 'gone')}) before answering: {tail}"
            )
        why = result.get("error") if result else output.strip()[-300:] or f"exit code {code}"
        raise EmulatorFailed(f"The emulator in {self.container.name} did not answer ({why}); its log: {tail}")

    def _log_of_invoke(self, mark: int, status: int) -> str:
        """The emulator logs an invoke's REPORT line just after answering: wait a moment for it."""
        deadline = time.monotonic() + LOG_WAIT_S
        while True:
            log = self.logs()[mark:]
            if emulator.has_report(log) or status != 200 or time.monotonic() > deadline:
                return log
            time.sleep(0.01)

    # --- a plan run by the client as its main process (bench, tune) ---------------------------------------

    def plan_result(self, timeout_s: float) -> dict[str, Any]:
        """The client's timings once its plan finished; {"error": ...} when it could not run it."""
        try:
            engine.wait_for_exit(self.client, timeout_s)
        except ContainerFailed as exc:
            raise EmulatorFailed(f"The invokes did not finish: {exc}") from exc
        output = engine.container_logs(self.client, stderr=False)
        result = engine.last_json_line(output)
        return (
            result
            if result is not None
            else {"error": f"the client printed no result: {output.strip()[-300:]}"}
        )

    # --- what the environment shows -----------------------------------------------------------------------

    def logs(self) -> str:
        return engine.container_logs(self.container)

    def init_duration_ms(self) -> float | None:
        """The runtime's init phase (imports, model load) as the emulator measured it."""
        return emulator.init_duration_ms(self.logs())

    def oom_killed(self) -> bool:
        return bool(engine.container_state(self.container).get("OOMKilled"))

    def peak_memory_bytes(self) -> int | None:
        """Peak of the container's memory cgroup (what the limit counts, page cache included), read inside."""
        for path in CGROUP_PEAK_FILES:
            code, output = engine.exec_in(self.container, ["cat", path], user=LAMBDA_USER)
            if code == 0 and output.strip().isdigit():
                return int(output.strip())
        return None

    def runtime_peak_rss_bytes(self) -> int | None:
        """Peak resident memory of the live runtime (Lambda's "Max Memory Used" is closest to this)."""
        code, output = engine.exec_in(self.container, ["python3", "-c", PEAK_RSS_READER], user=LAMBDA_USER)
        return int(output.strip()) if code == 0 and output.strip().isdigit() else None

    def home(self) -> str:
        variables = [str(item) for item in self.container.attrs["Config"]["Env"]]
        homes = [item.split("=", 1)[1] for item in variables if item.startswith("HOME=")]
        return homes[-1] if homes else "/"

    def run_in_function(self, argv: list[str]) -> str | None:
        """Last output line of ARGV run in the function container as its user, None if it failed."""
        code, output = engine.exec_in(self.container, argv, user=LAMBDA_USER)
        lines = output.strip().splitlines()
        return lines[-1] if code == 0 and lines else None


def start_client(
    function: Function, name: str, plan: dict[str, Any] | None, client_image: str | None
) -> tuple[Any, float]:
    """The client container (`NAME-client`, running PLAN, else idle), ready for the function to join its
    network namespace, and the CPUs the function gets."""
    command = json.dumps(plan) if plan is not None else "idle"
    image = client_image or function.image
    client = engine.start_container(client_options(function, image, f"{name}-client", command))
    try:
        wait_for_ready(client, READY_TIMEOUT_S)
        return client, effective_cpus(function.limits, engine.host_cpus())
    except BaseException:
        engine.remove_container(client)
        raise


def wait_for_ready(client: Any, timeout_s: float) -> None:
    """The client prints `ready` first: then its namespace exists and the function can join it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        output = engine.container_logs(client)
        if "ready" in output:
            return
        if engine.container_state(client).get("Status") == "exited":
            raise EmulatorFailed(
                f"The client container exited early (does the image have python3?): {output[-300:]}"
            )
        time.sleep(0.01)
    raise EmulatorFailed(
        f"The client container did not start within {timeout_s:.0f} s; is the engine overloaded?"
    )
