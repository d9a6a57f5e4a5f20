"""The kit's stand-in for Lambda's Runtime API in a SnapStart environment: runs INSIDE the function container.

Standard library only: `lambdakit.runtime.restore` passes this file's source as `python3 -c SOURCE` (the root
is read-only) as the container's entrypoint, with the image's own entrypoint and CMD as arguments. No local
SnapStart Runtime API exists (aws-lambda-rie inits lazily at the first invoke and answers `restore/next` with
an error), so:

* it starts the runtime AT ONCE, as Lambda does when a version is published: the image's entrypoint with
  AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001 (the base's script then runs the runtime client directly) and
  AWS_LAMBDA_INITIALIZATION_TYPE=snap-start (the client runs the before-snapshot hooks after init, then waits
  in `GET /runtime/restore/next`);
* it serves the Runtime API on 127.0.0.1:9001 and prints `SNAPSHOT POINT` once `restore/next` arrives: the
  environment is initialised and its hooks have run, the kit checkpoints the container there;
* it serves the invoke endpoint RIE serves (POST /2015-03-31/functions/function/invocations on 8080), so the
  kit's client container drives it unchanged. The FIRST invoke releases `restore/next`: on Lambda too, an
  invoke is what restores an environment, and it needs no clock heuristics (CRIU restores the monotonic
  clock's jump unreliably) nor a second signal from the host;
* it prints the lines `lambdakit.runtime.emulator` parses, as RIE and Lambda word them: `INIT
  REPORT(durationMs: ...)`, `RESTORE REPORT(durationMs: ...)` (release of restore/next -> the runtime's next
  `invocation/next`: the after-restore hooks), and one `REPORT RequestId: ... Duration: ... ms` per invoke,
  the first after a restore carrying `Restore Duration`, as Lambda's does.

Answers are the runtime's bytes as they are, like RIE's: 200 for a response or a handler error, 502
`Runtime.ExitError` once the runtime exited (it is not started again: a restored environment cannot re-init).
"""

from __future__ import annotations

import http.server
import json
import math
import os
import queue
import socket
import subprocess
import sys
import threading
import time
import uuid
from typing import Any

# The ports are Lambda's and RIE's; the unit tests run this on the host and pass free ones.
RUNTIME_ADDRESS = ("127.0.0.1", int(os.environ.get("LAMBDAKIT_RUNTIME_API_PORT", "9001")))
INVOKE_PORT = int(os.environ.get("LAMBDAKIT_INVOKE_PORT", "8080"))
INVOKE_PATH = "/2015-03-31/functions/function/invocations"
API = "/2018-06-01/runtime"
SNAPSHOT_MARK = "SNAPSHOT POINT"
INIT_ERROR_MARK = "INIT ERROR"
RESTORE_ERROR_MARK = "RESTORE ERROR"
ACCOUNT = "012345678912"  # RIE's account id in the function ARN


def log(line: str) -> None:
    print(line, flush=True)


class Environment:
    """The runtime's state (init -> snapshot -> restoring -> restored, or failed), the invokes in flight."""

    def __init__(self, argv: list[str], timeout_s: float) -> None:
        self.argv = argv
        self.timeout_s = timeout_s
        self.lock = threading.Lock()
        self.phase = "init"
        self.failure: tuple[int, bytes] | None = None  # the answer every later invoke gets
        self.released = threading.Event()  # restore/next answered
        self.events: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.answers: dict[str, tuple[int, bytes]] = {}
        self.answered: dict[str, threading.Event] = {}
        self.started: dict[str, float] = {}
        self.init_started = time.monotonic()
        self.restore_started: float | None = None
        self.restore_ms: float | None = None
        self.process: subprocess.Popen[bytes] | None = None

    # --- the runtime ---------------------------------------------------------------------------------------

    def start_runtime(self) -> None:
        host, port = RUNTIME_ADDRESS
        env = {
            **os.environ,
            "AWS_LAMBDA_RUNTIME_API": f"{host}:{port}",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start",
        }
        self.init_started = time.monotonic()
        self.process = subprocess.Popen(self.argv, env=env)
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        assert self.process is not None
        code = self.process.wait()
        why = f"signal: {'killed' if code == -9 else -code}" if code < 0 else f"exit status {code}"
        log(f"RUNTIME EXITED ({why})")
        body = {"errorType": "Runtime.ExitError", "errorMessage": f"Runtime exited with error: {why}"}
        self.fail(502, json.dumps(body).encode())

    def fail(self, status: int, body: bytes) -> None:
        """The environment is done: the invokes in flight and every later one get this answer."""
        with self.lock:
            if self.failure is None:
                self.failure = (status, body)
                self.phase = "failed"
            waiting = [rid for rid in self.answered if rid not in self.answers]
        for rid in waiting:
            self.answer(rid, status, body)

    # --- the Runtime API side ------------------------------------------------------------------------------

    def snapshot_point(self) -> None:
        """`restore/next`: init and the before-snapshot hooks are done; held until an invoke restores."""
        with self.lock:
            self.phase = "snapshot"
        log(f"INIT REPORT(durationMs: {(time.monotonic() - self.init_started) * 1000:.3f})")
        log(SNAPSHOT_MARK)
        self.released.wait()
        self.restore_started = time.monotonic()

    def next_event(self) -> tuple[str, bytes]:
        with self.lock:
            if self.phase == "restoring" and self.restore_started is not None:
                self.restore_ms = (time.monotonic() - self.restore_started) * 1000
                self.phase = "restored"
                log(f"RESTORE REPORT(durationMs: {self.restore_ms:.3f})")
        rid, body = self.events.get()
        self.started[rid] = time.monotonic()
        return rid, body

    def answer(self, rid: str, status: int, body: bytes) -> None:
        with self.lock:
            if rid in self.answers or rid not in self.answered:
                return
            self.answers[rid] = (status, body)
        self.answered[rid].set()

    # --- the invoke side -----------------------------------------------------------------------------------

    def invoke(self, body: bytes) -> tuple[int, bytes]:
        rid = str(uuid.uuid4())
        with self.lock:
            if self.failure is not None:
                return self.failure
            self.answered[rid] = threading.Event()
            if self.phase == "snapshot":
                self.phase = "restoring"
                self.released.set()
        self.events.put((rid, body))
        if not self.answered[rid].wait(self.timeout_s + self._restore_allowance()):
            message = f"Task timed out after {self.timeout_s:.2f} seconds"
            self.answer(rid, 200, json.dumps({"errorMessage": message}).encode())
            log(
                f"{message} (RequestId: {rid}); the runtime is stopped: a restored environment cannot re-init"
            )
            if self.process is not None:
                self.process.kill()
        status, answer = self.answers.pop(rid)
        self._report(rid)
        return status, answer

    def _restore_allowance(self) -> float:
        # Lambda allows the restore (after-restore hooks) 10 s of its own before the invoke's Timeout starts
        return 10.0 if self.restore_ms is None and self.restore_started is not None else 0.0

    def _report(self, rid: str) -> None:
        started = self.started.pop(rid, None)
        duration = (time.monotonic() - started) * 1000 if started is not None else 0.0
        memory = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        line = (
            f"REPORT RequestId: {rid}\tDuration: {duration:.2f} ms\t"
            f"Billed Duration: {math.ceil(duration)} ms\tMemory Size: {memory} MB\t"
            f"Max Memory Used: {memory} MB\t"
        )
        with self.lock:
            restore_ms, self.restore_ms = self.restore_ms, None
        if restore_ms is not None:
            line += f"Restore Duration: {restore_ms:.2f} ms\t"
            line += f"Billed Restore Duration: {math.ceil(restore_ms)} ms\t"
        log(line)


def handler_class(env: Environment) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the client and the runtime client expect

        def setup(self) -> None:
            super().setup()
            # headers and body go out as two writes: without this, Nagle's algorithm and the peer's delayed
            # ACK add 40 ms to every answer (the client sets the same on its side)
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:
            return  # the Runtime API's access log is noise; the REPORT lines say what happened

        def body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for key, value in {"Content-Type": "application/json", **(headers or {})}.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def error_line(self, body: bytes) -> str:
            """`Runtime.BeforeSnapshotError: RuntimeError: pool closed`: the error type the runtime reports (a
            header), then the error's own type and message, on one line."""
            try:
                error = json.loads(body)
                own = f"{error.get('errorType', 'Error')}: {error.get('errorMessage', '')}"
            except (ValueError, AttributeError):
                own = body.decode("utf-8", "replace")
            reported = self.headers.get("Lambda-Runtime-Function-Error-Type")
            return (f"{reported}: {own}" if reported else own).replace("\n", " ")

        def do_GET(self) -> None:
            if self.path == f"{API}/restore/next":
                env.snapshot_point()
                self.send(200)
            elif self.path == f"{API}/invocation/next":
                rid, event = env.next_event()
                region = os.environ.get("AWS_REGION", "us-east-1")
                name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "function")
                arn = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}"
                self.send(
                    200,
                    event,
                    {
                        "Lambda-Runtime-Aws-Request-Id": rid,
                        "Lambda-Runtime-Deadline-Ms": str(int((time.time() + env.timeout_s) * 1000)),
                        "Lambda-Runtime-Invoked-Function-Arn": arn,
                    },
                )
            else:
                self.send(404, b'{"errorMessage": "unknown path"}')

        def do_POST(self) -> None:
            body = self.body()
            parts = self.path.removeprefix(API).strip("/").split("/")
            if self.path == INVOKE_PATH:
                self.send(*env.invoke(body))
                return
            if parts[:1] == ["invocation"] and len(parts) == 3 and parts[2] in ("response", "error"):
                env.answer(parts[1], 200, body)
            elif parts == ["init", "error"]:
                log(f"{INIT_ERROR_MARK} {self.error_line(body)}")
                env.fail(200, body)
            elif parts == ["restore", "error"]:
                log(f"{RESTORE_ERROR_MARK} {self.error_line(body)}")
                env.fail(502, body)
            else:
                self.send(404, b'{"errorMessage": "unknown path"}')
                return
            self.send(202, b"{}")

    return Handler


def serve(address: tuple[str, int], env: Environment) -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(address, handler_class(env))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit("usage: python3 -c SOURCE ENTRYPOINT... HANDLER")
    env = Environment(argv, float(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "3")))
    serve(RUNTIME_ADDRESS, env)
    serve(("", INVOKE_PORT), env)
    env.start_runtime()
    while True:  # the servers' threads do the work; this process is the container's main process
        time.sleep(3600)


if __name__ == "__main__":
    main(sys.argv[1:])
