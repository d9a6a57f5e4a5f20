"""The invoke loop that runs INSIDE the function's network namespace (standard library only).

`lambdakit.measure` starts it as `python3 -c <this file> <plan as JSON>` in a small client container whose
network namespace the function container then joins: there is no network beyond loopback, and no process
is spawned per call. It prints one `ready` line, waits for the emulator's port, sends every phase's invokes
over one keep-alive connection and prints the timings as one JSON line.
"""

from __future__ import annotations

import http.client
import json
import socket
import sys
import time
from typing import Any

INVOKE_PATH = "/2015-03-31/functions/function/invocations"


def wait_for_port(port: int, deadline: float) -> float:
    """Poll until the emulator accepts a connection; return the wall-clock time it first did."""
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return time.time()
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.002)


def invoke(connection: http.client.HTTPConnection, body: bytes) -> tuple[int, bytes]:
    connection.request("POST", INVOKE_PATH, body=body, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    return response.status, response.read()


def run(plan: dict[str, Any]) -> dict[str, Any]:
    port = int(plan["port"])
    ready_at = wait_for_port(port, time.time() + float(plan["start_timeout_s"]))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=float(plan["invoke_timeout_s"]))
    phases = []
    for phase in plan["phases"]:
        body = json.dumps(phase["event"]).encode()
        durations, statuses, first_body, first_done = [], [], None, None
        for _ in range(int(phase["count"])):
            started = time.perf_counter()
            status, answer = invoke(connection, body)
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
    plan = json.loads(sys.argv[1])
    print("ready", flush=True)
    try:
        result = run(plan)
    except Exception as exc:  # report any failure as data: the host decides what it means
        result = {"error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
