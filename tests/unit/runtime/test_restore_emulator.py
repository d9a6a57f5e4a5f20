"""The kit's SnapStart Runtime API stand-in, run on the host as a subprocess with a tiny fake runtime
(standard library): restore/next held until the first invoke, the answers as the runtime posted them, the log
lines the kit parses, and each way a runtime fails."""

from __future__ import annotations

import http.client
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from lambdakit.runtime import emulator, restore, restore_emulator

# What awslambdaric does in snap-start mode, reduced to its Runtime API calls; MODE picks how it behaves.
FAKE_RUNTIME = """
import http.client, json, os, sys
api = os.environ["AWS_LAMBDA_RUNTIME_API"]
assert os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"] == "snap-start"
mode = sys.argv[1]

def call(method, path, body=None, headers=None):
    connection = http.client.HTTPConnection(api)
    connection.request(method, "/2018-06-01/runtime" + path, body=body, headers=headers or {})
    response = connection.getresponse()
    return response.status, dict(response.getheaders()), response.read()

if mode == "init-error":
    error = json.dumps({"errorType": "RuntimeError", "errorMessage": "boom"})
    call("POST", "/init/error", error, {"Lambda-Runtime-Function-Error-Type": "Runtime.BeforeSnapshotError"})
    sys.exit(64)
call("GET", "/restore/next")
print("FAKE restored", flush=True)
if mode == "restore-error":
    call("POST", "/restore/error", json.dumps({"errorType": "ValueError", "errorMessage": "hook"}))
    sys.exit(65)
while True:
    status, headers, event = call("GET", "/invocation/next")
    rid = headers["Lambda-Runtime-Aws-Request-Id"]
    assert headers["Lambda-Runtime-Invoked-Function-Arn"].endswith(":function:fake")
    if mode == "exit":
        sys.exit(3)
    if event == b'{"fail": true}':
        call("POST", f"/invocation/{rid}/error", json.dumps({"errorType": "E", "errorMessage": "asked"}))
    else:
        call("POST", f"/invocation/{rid}/response", b'{"echo":  ' + event + b"}")
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Running:
    process: subprocess.Popen[str]
    port: int
    lines: queue.Queue[str]
    seen: list[str]

    def wait_for(self, text: str, timeout_s: float = 20.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not any(text in line for line in self.seen):
            try:
                self.seen.append(self.lines.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                pytest.fail(f"no {text!r} within {timeout_s} s; output: {self.seen}")

    def invoke(self, body: bytes) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request("POST", restore_emulator.INVOKE_PATH, body=body)
        try:
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def log(self) -> str:
        time.sleep(0.2)  # the REPORT line comes just after the answer
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return "\n".join(self.seen)


@pytest.fixture
def stand_in(request: pytest.FixtureRequest) -> Iterator[Running]:
    mode = request.param
    port = free_port()
    env = {
        **os.environ,
        "LAMBDAKIT_RUNTIME_API_PORT": str(free_port()),
        "LAMBDAKIT_INVOKE_PORT": str(port),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": "5",
        "AWS_LAMBDA_FUNCTION_NAME": "fake",
    }
    argv = [sys.executable, "-c", restore.emulator_source(), sys.executable, "-c", FAKE_RUNTIME, mode]
    process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout
    reader = threading.Thread(target=lambda: [lines.put(line.rstrip("\n")) for line in stdout], daemon=True)
    reader.start()
    try:
        yield Running(process, port, lines, [])
    finally:
        process.kill()
        process.wait()
        reader.join(timeout=5)  # EOF once the stand-in and the fake runtime are gone
        stdout.close()


@pytest.mark.parametrize("stand_in", ["echo"], indirect=True)
def test_restore_next_is_held_until_the_first_invoke_which_it_answers(stand_in: Running) -> None:
    stand_in.wait_for(restore_emulator.SNAPSHOT_MARK)
    time.sleep(0.3)
    assert stand_in.log().count("FAKE restored") == 0  # the runtime still waits in restore/next
    assert stand_in.invoke(b'{"text": "hi"}') == (200, b'{"echo":  {"text": "hi"}}')  # the runtime's bytes
    assert stand_in.invoke(b'{"fail": true}') == (200, b'{"errorType": "E", "errorMessage": "asked"}')
    log = stand_in.log()
    order = [log.index(mark) for mark in ("INIT REPORT", "SNAPSHOT POINT", "FAKE restored", "RESTORE REPORT")]
    assert order == sorted(order)
    assert emulator.init_duration_ms(log) is not None and restore.restore_duration_ms(log) is not None
    first, second = emulator.reports(log)  # the kit's RIE parser reads the stand-in's REPORT lines
    assert first.duration_ms >= 0 and second.duration_ms >= 0
    assert log.count("\tRestore Duration:") == 1


@pytest.mark.parametrize("stand_in", ["init-error"], indirect=True)
def test_an_init_error_is_one_line_and_the_answer_of_every_invoke(stand_in: Running) -> None:
    stand_in.wait_for(restore_emulator.INIT_ERROR_MARK)
    line = f"{restore_emulator.INIT_ERROR_MARK} Runtime.BeforeSnapshotError: RuntimeError: boom"
    assert line in stand_in.log()
    status, body = stand_in.invoke(b"{}")
    assert status == 200 and json.loads(body)["errorMessage"] == "boom"
    assert restore_emulator.SNAPSHOT_MARK not in stand_in.log()


@pytest.mark.parametrize("stand_in", ["restore-error"], indirect=True)
def test_a_restore_error_answers_the_invoke_that_restored_with_502(stand_in: Running) -> None:
    stand_in.wait_for(restore_emulator.SNAPSHOT_MARK)
    status, body = stand_in.invoke(b"{}")
    assert status == 502 and json.loads(body)["errorMessage"] == "hook"
    assert f"{restore_emulator.RESTORE_ERROR_MARK} ValueError: hook" in stand_in.log()


@pytest.mark.parametrize("stand_in", ["exit"], indirect=True)
def test_a_runtime_that_exits_mid_invoke_is_runtime_exit_error_as_rie_says(stand_in: Running) -> None:
    stand_in.wait_for(restore_emulator.SNAPSHOT_MARK)
    status, body = stand_in.invoke(b"{}")
    assert status == 502
    assert emulator.verdict(status, body.decode()) == "crashed"
    assert json.loads(body)["errorMessage"] == "Runtime exited with error: exit status 3"
    assert stand_in.invoke(b"{}")[0] == 502  # not started again: a restored environment cannot re-init
