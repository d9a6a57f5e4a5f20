"""`python -m lambdakit local` (`nox -s local`): run the function image locally, over the sample events.

* Default: `sam local invoke InferenceFunction -e EVENT` for each event (extra arguments go to SAM).
* `--faithful`: run the image the way Lambda runs it, with the limits of `template.yaml`: read-only root,
  a tmpfs `/tmp` of the EphemeralStorage size, no network, a non-root uid/gid, memory = MemorySize (no swap),
  CPU = MemorySize/1769, Lambda's process and file limits, and the `AWS_LAMBDA_FUNCTION_*` variables. Each
  event goes to the Runtime Interface Emulator (RIE) inside the container, through a socket opened in the
  container's network namespace. A summary table gives the cold start, each invoke's duration and the
  container's peak memory, and explains what Lambda would not allow: writes outside /tmp, network attempts,
  running out of memory or time.

`FaithfulFunction` is the reusable part (bench and tune start it too):

    with FaithfulFunction.start(image, limits) as function:
        result = function.invoke({"text": "hi"})
        function.peak_memory_bytes()
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import http.client
import json
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import docker.errors
import docker.types

from lambdakit.config import template
from lambdakit.core import proc, settings
from lambdakit.core.errors import EmulatorFailed
from lambdakit.core.settings import IMAGE_CACHE_ROOT, REPO_ROOT
from lambdakit.images import engine, sam
from lambdakit.snapshot import caches, refusals

RIE_PORT = 8080
INVOKE_PATH = "/2015-03-31/functions/function/invocations"
LAMBDA_UID, LAMBDA_GID = (
    993,
    990,
)  # any non-root ids: Lambda runs the function as an unprivileged sandbox user
LAMBDA_MAX_PROCESSES = 1024  # Lambda's limit on processes/threads per execution environment
LAMBDA_MAX_OPEN_FILES = 1024
CONTAINER_LABEL = "io.lambdakit.faithful"
READY_TIMEOUT_S = 10.0
LOG_WAIT_S = 1.0
CLONE_NEWNET = 0x40000000
EVENTS_DIR = REPO_ROOT / "events"
TMP = "/tmp"  # noqa: S108  (the one writable folder of a Lambda execution environment)

Outcome = str  # "ok", "error response", "function error", "timeout", "out of memory", "crashed"


# --- the Lambda-faithful container ------------------------------------------------------------------------


def lambda_environment(
    limits: template.Limits, function_name: str = template.FUNCTION_ID, region: str = settings.LOCAL_REGION
) -> dict[str, str]:
    """Variables Lambda sets in every execution environment that the RIE and runtimes read."""
    return {
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(limits.memory_mb),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(limits.timeout_s),
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }


def container_options(
    image: str,
    limits: template.Limits,
    name: str,
    environment: Mapping[str, str] | None = None,
    handler: str | None = None,
) -> dict[str, Any]:
    """Docker SDK `containers.run` arguments for a Lambda-faithful execution environment."""
    memory = f"{limits.memory_mb}m"
    return {
        "image": image,
        "command": [handler] if handler else None,
        "name": name,
        "detach": True,
        "read_only": True,
        "tmpfs": {TMP: tmpfs_options(limits)},
        "network_mode": "none",
        "user": f"{LAMBDA_UID}:{LAMBDA_GID}",
        "mem_limit": memory,
        "memswap_limit": memory,  # equal to the limit: no swap, as on Lambda
        "nano_cpus": limits.nano_cpus,
        "pids_limit": LAMBDA_MAX_PROCESSES,
        "ulimits": [
            docker.types.Ulimit(name="nofile", soft=LAMBDA_MAX_OPEN_FILES, hard=LAMBDA_MAX_OPEN_FILES)
        ],
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "environment": {**lambda_environment(limits), **(environment or {})},
        "labels": {CONTAINER_LABEL: "1"},
    }


def tmpfs_options(limits: template.Limits) -> str:
    """Mount options of the tmpfs: EphemeralStorage-sized, writable by the function's user."""
    return f"rw,nosuid,nodev,size={limits.ephemeral_mb}m,mode=1777"


def docker_run_argv(image: str, limits: template.Limits, name: str) -> list[str]:
    """The same execution environment as a `docker run` command line, to reproduce it by hand."""
    env = [arg for key, value in lambda_environment(limits).items() for arg in ("-e", f"{key}={value}")]
    return [
        "docker",
        "run",
        "-d",
        "--name",
        name,
        "--read-only",
        "--tmpfs",
        f"{TMP}:{tmpfs_options(limits)}",
        "--network",
        "none",
        "--user",
        f"{LAMBDA_UID}:{LAMBDA_GID}",
        "--memory",
        f"{limits.memory_mb}m",
        "--memory-swap",
        f"{limits.memory_mb}m",
        "--cpus",
        f"{limits.cpus:.3f}",
        "--pids-limit",
        str(LAMBDA_MAX_PROCESSES),
        "--ulimit",
        f"nofile={LAMBDA_MAX_OPEN_FILES}",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
        *env,
        image,
    ]


@dataclass
class Invocation:
    """One event through the emulator: the answer, its timing, and what it means."""

    name: str
    status: int
    body: str
    client_ms: float
    duration_ms: float | None = None
    outcome: Outcome = "ok"
    explanations: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # worth a look, but Lambda would not fail the call

    @property
    def payload(self) -> Any:
        try:
            return json.loads(self.body)
        except json.JSONDecodeError:
            return self.body


class FaithfulFunction:
    """A running Lambda-faithful container and a keep-alive connection to its emulator."""

    def __init__(self, container: Any, limits: template.Limits, started: float) -> None:
        self.container = container
        self.limits = limits
        self.started = started
        self.cold_start_ms: float | None = None
        self._pid = int(container.attrs["State"]["Pid"])
        self._connection: http.client.HTTPConnection | None = None
        self._invokes = 0

    @classmethod
    def start(
        cls,
        image: str,
        limits: template.Limits,
        name: str | None = None,
        environment: Mapping[str, str] | None = None,
        handler: str | None = None,
    ) -> FaithfulFunction:
        """Start the container (HANDLER overrides the image's CMD) and wait until its emulator listens."""
        name = name or f"lambdakit-faithful-{uuid.uuid4().hex[:8]}"
        engine.require_image(image, "run `nox -s build` first")
        options = container_options(image, limits, name, environment, handler)
        started = time.perf_counter()
        try:
            container = engine.client().containers.run(**options)
            container.reload()
        except docker.errors.APIError as exc:
            raise EmulatorFailed(f"Could not start {image} as {name}: {engine.first_line(exc)}") from exc
        function = cls(container, limits, started)
        try:
            function._connect(READY_TIMEOUT_S)
        except BaseException:
            function.stop()
            raise
        return function

    def __enter__(self) -> FaithfulFunction:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def invoke(self, event: Any, name: str = "event") -> Invocation:
        """POST one event (bytes are sent as they are, anything else as JSON) and classify the answer."""
        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        log_mark = self._log_length()
        began = time.perf_counter()
        status, text = self._post(body)
        ended = time.perf_counter()
        self._invokes += 1
        if self.cold_start_ms is None:
            self.cold_start_ms = (ended - self.started) * 1000
        logs = self._logs_of_invoke(log_mark, status)
        result = Invocation(
            name=name,
            status=status,
            body=text,
            client_ms=(ended - began) * 1000,
            duration_ms=invoke_duration_ms(logs),
        )
        result.outcome = classify(status, text, logs)
        result.explanations = explain(f"{text}\n{logs}", home=self.home())
        result.notes = refusal_notes(f"{text}\n{logs}", result.explanations)
        return result

    def init_duration_ms(self) -> float | None:
        """The runtime's init phase (imports, model load) as the emulator measured it."""
        match = re.search(r"INIT REPORT\(durationMs: ([\d.]+)\)", self.logs())
        return float(match.group(1)) if match else None

    def peak_memory_bytes(self) -> int | None:
        """Peak memory of the container's cgroup (what the memory limit counts, page cache included)."""
        return cgroup_peak_memory(self._pid)

    def runtime_peak_rss_bytes(self) -> int | None:
        """Peak resident memory of the runtime process (Lambda's "Max Memory Used" is closest to this)."""
        peaks = [rss for pid in _descendants(self._pid) if (rss := _vm_hwm(pid)) is not None]
        return max(peaks) if peaks else None

    def home(self) -> str:
        env: dict[str, str] = dict(
            item.split("=", 1) for item in self.container.attrs["Config"]["Env"] if "=" in item
        )
        return env.get("HOME", "/")

    def logs(self) -> str:
        try:
            return bytes(self.container.logs(stdout=True, stderr=True)).decode("utf-8", "replace")
        except docker.errors.APIError:
            return ""

    def stop(self) -> None:
        if self._connection is not None:
            self._connection.close()
        with contextlib.suppress(docker.errors.APIError):
            self.container.remove(force=True)

    def _log_length(self) -> int:
        return len(self.logs())

    def _logs_of_invoke(self, mark: int, status: int) -> str:
        """The emulator logs an invoke's REPORT line just after answering: wait a moment for it."""
        deadline = time.monotonic() + LOG_WAIT_S
        while True:
            logs = self.logs()[mark:]
            if "REPORT RequestId" in logs or status != 200 or time.monotonic() > deadline:
                return logs
            time.sleep(0.005)

    def _post(self, body: bytes) -> tuple[int, str]:
        for attempt in (1, 2):
            try:
                connection = self._connection or self._connect(READY_TIMEOUT_S)
                connection.request(
                    "POST", INVOKE_PATH, body=body, headers={"Content-Type": "application/json"}
                )
                response = connection.getresponse()
                return response.status, response.read().decode("utf-8", "replace")
            except (ConnectionError, http.client.HTTPException, OSError) as exc:
                self._connection = None  # the emulator closes the connection after a reset; open a new one
                if isinstance(exc, TimeoutError) or attempt == 2:
                    return self._failed_post(exc)
        raise AssertionError("unreachable")

    def _failed_post(self, exc: BaseException) -> tuple[int, str]:
        self.container.reload()
        if self.container.status != "running":
            raise EmulatorFailed(
                f"The container exited ({self.container.status}) before answering: "
                f"{' | '.join(self.logs().strip().splitlines()[-3:])}"
            ) from exc
        if isinstance(exc, TimeoutError):
            return 0, f"no answer within the client timeout ({self.limits.timeout_s + 5} s)"
        raise EmulatorFailed(f"The emulator in {self.container.name} did not answer: {exc}") from exc

    def _connect(self, ready_timeout: float) -> http.client.HTTPConnection:
        connection = NetnsHTTPConnection(self._pid, timeout=self.limits.timeout_s + 5)
        deadline = time.monotonic() + ready_timeout
        while True:
            try:
                connection.connect()
                break
            except ConnectionRefusedError:
                if time.monotonic() > deadline:
                    raise EmulatorFailed(
                        f"The emulator in {self.container.name} did not listen on port "
                        f"{RIE_PORT} within {ready_timeout:.0f} s: "
                        f"{' | '.join(self.logs().strip().splitlines()[-3:])}"
                    ) from None
                time.sleep(0.01)
        self._connection = connection
        return connection


class NetnsHTTPConnection(http.client.HTTPConnection):
    """HTTP to 127.0.0.1:8080 of another network namespace (a container started with `--network none`).

    A socket belongs to the namespace it was created in, so one short-lived thread enters the container's
    namespace (`setns`, root only), opens the socket and hands it over; the process stays where it is.
    """

    def __init__(self, pid: int, timeout: float) -> None:
        super().__init__("127.0.0.1", RIE_PORT, timeout=timeout)
        self.pid = pid

    def connect(self) -> None:
        self.sock = socket_in_netns(self.pid, RIE_PORT, self.timeout)


def socket_in_netns(pid: int, port: int, timeout: float | None) -> socket.socket:
    outcome: dict[str, Any] = {}

    def enter_and_connect() -> None:
        try:
            with Path(f"/proc/{pid}/ns/net").open("rb") as namespace:
                if _libc().setns(namespace.fileno(), CLONE_NEWNET) != 0:
                    number = ctypes.get_errno()
                    raise PermissionError(number, os.strerror(number))
            connection = socket.create_connection(("127.0.0.1", port), timeout=timeout)
            # http.client writes headers and body separately: without this, Nagle's algorithm and the
            # emulator's delayed ACK add 40 ms to every warm invoke.
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            outcome["socket"] = connection
        except OSError as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=enter_and_connect, name=f"netns-{pid}")
    worker.start()
    worker.join()
    error = outcome.get("error")
    if isinstance(error, ConnectionRefusedError):
        raise error
    if isinstance(error, PermissionError | FileNotFoundError):
        raise EmulatorFailed(
            f"Cannot enter the network namespace of process {pid} ({error}); the faithful run needs root on "
            "the Docker host (it joins the container's namespace, as `nsenter -n` does)."
        ) from error
    if error is not None:
        raise EmulatorFailed(f"Could not reach the emulator inside the container: {error}") from error
    return outcome["socket"]  # type: ignore[no-any-return]


def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


def cgroup_peak_memory(pid: int) -> int | None:
    """memory.max_usage_in_bytes (cgroup v1) or memory.peak (v2) of the cgroup process PID is in."""
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            candidates = [Path("/sys/fs/cgroup") / path.lstrip("/") / "memory.peak"]
        elif "memory" in controllers.split(","):
            candidates = [Path("/sys/fs/cgroup/memory") / path.lstrip("/") / "memory.max_usage_in_bytes"]
        else:
            continue
        for candidate in candidates:
            with contextlib.suppress(OSError, ValueError):
                return int(candidate.read_text().strip())
    return None


def _descendants(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                queue.extend(int(child) for child in task.read_text().split())
    return found


def _vm_hwm(pid: int) -> int | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return None


# --- reading the emulator's answers -----------------------------------------------------------------------


def invoke_duration_ms(logs: str) -> float | None:
    """The runtime's duration of the (last) invoke in LOGS: `INVOKE RTDONE(..., duration: 9.8ms)`."""
    found = re.findall(r"INVOKE RTDONE\(status: \w+, produced bytes: \d+, duration: ([\d.]+)ms\)", logs)
    if found:
        return float(found[-1])
    found = re.findall(r"REPORT RequestId: \S+\s+(?:Init Duration: [\d.]+ ms\s+)?Duration: ([\d.]+) ms", logs)
    return float(found[-1]) if found else None


def classify(status: int, body: str, logs: str = "") -> Outcome:
    """What the emulator's answer means (it always answers 200 unless the runtime died)."""
    if (
        status == 0
        or re.search(r"Task timed out after [\d.]+ seconds", body)
        or "Reset initiated: Timeout" in logs
    ):
        return "timeout"
    if status == 502 or "Runtime.ExitError" in body:
        return "out of memory" if "signal: killed" in f"{body}{logs}" else "crashed"
    if status != 200:
        return "crashed"
    try:
        payload = json.loads(body)
    except json.JSONDecodeError:
        return "ok"
    if isinstance(payload, dict) and "errorType" in payload and "errorMessage" in payload:
        return "function error"
    if isinstance(payload, dict) and ("error" in payload or int(payload.get("statusCode", 200)) >= 400):
        return "error response"
    return "ok"


_WRITE_ERROR = re.compile(r"\[Errno (30|13)\] (?:Read-only file system|Permission denied): '([^']+)'")
_NETWORK_ERROR = re.compile(
    r"\[Errno (-2|-3|-5|101|111|113|110)\] (Temporary failure in name resolution|Name or service not known|"
    r"No address associated with hostname|Network is unreachable|Connection refused|No route to host|"
    r"Connection timed out)"
)
_OFFLINE_ERROR = re.compile(
    r"(OfflineModeIsEnabled|LocalEntryNotFoundError|HF_HUB_OFFLINE|couldn't connect to)"
)
_FRAME = re.compile(r'File "([^"]+)", line \d+')


def explain(text: str, home: str = "/") -> list[str]:
    """One line per thing Lambda would not allow that TEXT (response and logs) shows, with the fix."""
    modules = stack_modules(text)
    notes: dict[str, None] = {}
    for _, path in _WRITE_ERROR.findall(text):
        notes[explain_write(path, home, modules)] = None
    for _, reason in _NETWORK_ERROR.findall(text):
        notes[explain_network(reason, modules)] = None
    if _OFFLINE_ERROR.search(text) and not _NETWORK_ERROR.search(text):
        notes[explain_network("a download was refused by the offline switches", modules)] = None
    return list(notes)


def refusal_notes(text: str, explained: Sequence[str] = ()) -> list[str]:
    """Downloads a library tried and only reported (nltk.download returns False): the answer may be ok,
    but every cold start tries the network first. Notes, not failures; libraries explained already skip."""
    said = " ".join(explained)
    return [
        f"refused download: {r.library} ({r.detail}): {r.fix}"
        for r in refusals.find(text.splitlines())
        if r.library not in said
    ]


def explain_write(path: str, home: str, modules: Sequence[str]) -> str:
    """Who wrote PATH (caches table, else the traceback) and how to keep it off the read-only disk."""
    root, relative = _root_of(path, home)
    attribution = _attribute(root, relative if root != "other" else path)
    library = attribution.library if attribution.known else caches.library_of_stack(modules)[0]
    where = {"home": f"under HOME ({home})", "cache": "in the cache root"}.get(root, "outside /tmp")
    if root == "cache":
        preload = attribution.cache.preload if attribution.cache and attribution.cache.preload else ""
        fix = (
            "the cache root is read-only in the image: pre-load these files with `nox -s snapshot`"
            + (f" ({preload})" if preload else "")
            + ", or send scratch files to /tmp"
        )
    elif attribution.known:
        fix = caches.fix_for_outside(attribution.cache, root)
    else:
        fix = (
            "point it at /tmp (scratch) or at the cache root with its own cache variable, then record what "
            "it needs with `nox -s snapshot` so the image ships it"
        )
    return f"write outside /tmp: {library} wrote {path} {where}, which is read-only on Lambda; {fix}"


def explain_network(reason: str, modules: Sequence[str]) -> str:
    library, via = caches.library_of_stack(modules)
    who = f"{library} (called from {via})" if via else library
    cache = next((found for module in modules if (found := caches.by_module(module)) is not None), None)
    preload = (
        f"{cache.preload}" if cache and cache.preload else "record what it downloads with `nox -s snapshot`"
    )
    return (
        f"network attempt: {who} tried to connect ({reason}); the image has no network here and must not "
        f"download at run time on Lambda: {preload}, and keep its offline switch on"
    )


def _attribute(root: caches.Root, path: str) -> caches.Attribution:
    """The failing path is often the folder a library tried to create: match it as a folder too."""
    attribution = caches.attribute(root, path)
    return attribution if attribution.known else caches.attribute(root, f"{path.rstrip('/')}/_")


def stack_modules(text: str) -> list[str]:
    """Top-level module names of the traceback frames in TEXT, innermost first."""
    modules: list[str] = []
    for path in reversed(_FRAME.findall(text.replace('\\"', '"'))):
        module = _module_of(path)
        if module and module not in modules:
            modules.append(module)
    return modules


def _module_of(path: str) -> str | None:
    for marker in ("/site-packages/", "/dist-packages/", "/var/task/", "/python3.11/"):
        if marker in path:
            rest = path.split(marker, 1)[1]
            return rest.split("/", 1)[0].removesuffix(".py")
    return None


def _root_of(path: str, home: str) -> tuple[caches.Root, str]:
    for root, prefix in (("cache", IMAGE_CACHE_ROOT), ("tmp", TMP), ("home", home)):
        base = prefix.rstrip("/") + "/"
        if path.startswith(base) or (prefix != "/" and path == prefix):
            return root, path[len(base) :]  # type: ignore[return-value]
    return "other", path


# --- the command -----------------------------------------------------------------------------------------


def sample_events(paths: Sequence[str] = ()) -> list[Path]:
    events = [Path(p) for p in paths] if paths else sorted(EVENTS_DIR.glob("*.json"))
    missing = [str(p) for p in events if not p.is_file()]
    if missing:
        raise EmulatorFailed(f"Event file(s) not found: {', '.join(missing)}; pass paths to JSON files.")
    return events


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
    image: str, limits: template.Limits, events: Sequence[Path]
) -> tuple[list[Invocation], dict[str, Any]]:
    """Invoke each event in one warm container (the first invoke is the cold start); results and stats."""
    with FaithfulFunction.start(image, limits) as function:
        results = []
        for event in events:
            result = function.invoke(event.read_bytes(), name=event.name)
            results.append(result)
            print(f"# {event.name} → {result.outcome}", flush=True)
            print(
                result.body if result.outcome != "ok" else json.dumps(result.payload, ensure_ascii=False),
                flush=True,
            )
        stats = {
            "cold_start_ms": function.cold_start_ms,
            "init_duration_ms": function.init_duration_ms(),
            "peak_memory_bytes": function.peak_memory_bytes(),
            "runtime_peak_rss_bytes": function.runtime_peak_rss_bytes(),
        }
    return results, stats


def print_summary(results: Sequence[Invocation], stats: Mapping[str, Any], limits: template.Limits) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title="Lambda-faithful run",
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
    console.print(
        f"peak memory: {_mb(stats.get('peak_memory_bytes'))} MB container cgroup (page cache included), "
        f"{_mb(stats.get('runtime_peak_rss_bytes'))} MB runtime peak RSS; limit {limits.memory_mb} MB"
    )
    notes = dict.fromkeys(note for result in results for note in result.explanations)
    for result in results:
        if result.outcome == "timeout":
            notes[
                f"timeout: {result.name} ran longer than Timeout={limits.timeout_s} s; raise Timeout in "
                "template.yaml or make the work smaller"
            ] = None
        elif result.outcome == "out of memory":
            notes[
                f"out of memory: the runtime was killed during {result.name} at "
                f"MemorySize={limits.memory_mb} MB; "
                "raise MemorySize in template.yaml (`nox -s tune` measures it)"
            ] = None
    for note in notes:
        console.print(f"[red]✗[/red] {note}")
    for note in dict.fromkeys(note for result in results for note in result.notes):
        console.print(f"[yellow]![/yellow] {note}")


def _answer(result: Invocation) -> str:
    payload = result.payload
    if isinstance(payload, dict) and "label" in payload:
        return str(payload["label"])
    if isinstance(payload, dict) and "results" in payload:
        return ", ".join(str(item.get("label")) for item in payload["results"])
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
    """Error responses are answers; anything Lambda would have failed is a failure of the run."""
    return any(result.outcome not in {"ok", "error response"} or result.explanations for result in results)


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m lambdakit local", description=__doc__.splitlines()[0])
    parser.add_argument("events", nargs="*", help="event files (default: every events/*.json)")
    parser.add_argument(
        "--faithful", action="store_true", help="run with Lambda's limits instead of sam local"
    )
    parser.add_argument("--image", default=None, help="image to run (default: the one `nox -s build` tags)")
    parser.add_argument(
        "--template", type=Path, default=template.TEMPLATE, help="SAM template with the limits"
    )
    args, extra = parser.parse_known_args(argv)
    events = sample_events(args.events)
    if not args.faithful:
        return run_sam_local(events, args.template, extra)
    limits = template.limits(args.template)
    image = args.image or template.image_settings(args.template).local_image
    results, stats = run_faithful(image, limits, events)
    print_summary(results, stats, limits)
    return 1 if failed(results) else 0
