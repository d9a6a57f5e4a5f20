"""The one invoke path to the emulator: runs INSIDE a client container (standard library only).

`lambdakit.runtime.environment` starts a small client container with `--network none` and the function
container in its network namespace (`--network container:CLIENT`): the function has no network beyond
loopback, as on Lambda, and the client reaches the emulator on 127.0.0.1:8080 without root, `setns` or a
published port, so it works the same on a Linux engine, Docker Desktop and from inside the Dev Container.

    python3 -c <this file> idle          keep the namespace alive; invokes come through `docker exec`
    python3 -c <this file> PLAN          run a plan (JSON) and print its timings as one JSON line

A plan: `{"port", "start_timeout_s", "invoke_timeout_s", "phases": [...]}`, each phase `{"name", "count",
"event" | "event_file"}`; with `"start_file"`, the client waits for that file before it polls the port (the
SnapStart restore: the port must not be reached before the checkpoint, only once the restore begins) and
`"connect_timeout_s"` bounds each attempt to connect. Each
phase's invokes go over one keep-alive connection; an `event_file` is sent byte for byte. A call that gets no
answer within `invoke_timeout_s` is status 0; the next call opens a new connection.
"""

from __future__ import annotations

import http.client
import json
import socket
import sys
import time
from pathlib import Path
from typing import Any

INVOKE_PATH = "/2015-03-31/functions/function/invocations"
IDLE = "idle"


def wait_for_port(port: int, deadline: float, connect_timeout_s: float = 1.0) -> float:
    """Poll until the emulator accepts a connection; return the wall-clock time it first did."""
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=connect_timeout_s):
                return time.time()
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.002)


class Emulator:
    """A keep-alive connection to the emulator that reconnects after a reset or a timeout."""

    def __init__(self, port: int, timeout: float) -> None:
        self.port, self.timeout = port, timeout
        self.connection: http.client.HTTPConnection | None = None

    def invoke(self, body: bytes) -> tuple[int, bytes]:
        for attempt in (1, 2):
            connection = self.connection or self._connect()
            try:
                connection.request(
                    "POST", INVOKE_PATH, body=body, headers={"Content-Type": "application/json"}
                )
                response = connection.getresponse()
                return response.status, response.read()
            except TimeoutError:
                self._close()
                return 0, f"no answer within the client timeout ({self.timeout:.0f} s)".encode()
            except (ConnectionError, http.client.HTTPException):
                self._close()  # the emulator closes idle connections after a runtime reset: open a new one
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _connect(self) -> http.client.HTTPConnection:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        connection.connect()
        # http.client writes headers and body separately: without this, Nagle's algorithm and the emulator's
        # delayed ACK add 40 ms to every warm invoke.
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.connection = connection
        return connection

    def _close(self) -> None:
        if self.connection is not None:
            self.connection.close()
        self.connection = None


def event_body(phase: dict[str, Any]) -> bytes:
    if "event_file" in phase:
        return Path(phase["event_file"]).read_bytes()
    return json.dumps(phase["event"]).encode()


def wait_for_file(path: str, deadline: float) -> None:
    while not Path(path).exists():
        if time.time() > deadline:
            raise TimeoutError(f"{path} did not appear")
        time.sleep(0.002)


def run(plan: dict[str, Any]) -> dict[str, Any]:
    port = int(plan["port"])
    deadline = time.time() + float(plan["start_timeout_s"])
    if plan.get("start_file"):
        wait_for_file(str(plan["start_file"]), deadline)
    # during a CRIU restore the network namespace drops packets (criu's network lock): a SYN sent then is
    # retried by the kernel only after 1 s, so the restore's plan asks for short attempts instead
    ready_at = wait_for_port(port, deadline, float(plan.get("connect_timeout_s", 1.0)))
    emulator = Emulator(port, float(plan["invoke_timeout_s"]))
    phases = []
    for phase in plan["phases"]:
        body = event_body(phase)
        durations, statuses, first_body, first_done = [], [], None, None
        for _ in range(int(phase["count"])):
            started = time.perf_counter()
            status, answer = emulator.invoke(body)
            durations.append((time.perf_counter() - started) * 1000)
            statuses.append(status)
            if first_body is None:
                first_done, first_body = time.time(), answer.decode("utf-8", "replace")
        phases.append(
            {
                "name": phase["name"],
                "round_trip_ms": durations,
                "statuses": statuses,
                "first_response_at": first_done,
                "first_body": first_body,
            }
        )
    return {"port_ready_at": ready_at, "phases": phases}


def main() -> None:
    print("ready", flush=True)
    if sys.argv[1] == IDLE:
        while True:  # the container's network namespace lives as long as this process
            time.sleep(3600)
    try:
        result = run(json.loads(sys.argv[1]))
    except Exception as exc:  # report any failure as data: the host decides what it means
        result = {"error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
