"""The audit hook in a real Python process: it records who connected where, and in verify mode cuts it off."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from lambdakit.snapshot import netaudit

CLIENT = """
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.close()
open(sys.argv[2], "w").write("written")
print("connected")
"""


@pytest.fixture
def listener() -> socket.socket:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    yield server
    server.close()


def run(
    tmp_path: Path, port: int, verify: bool
) -> tuple[subprocess.CompletedProcess[str], list[netaudit.Event]]:
    log = tmp_path / "audit.jsonl"
    env = dict(os.environ, **netaudit.env(log, verify=verify, pythonpath=None))
    result = subprocess.run(
        [sys.executable, "-c", CLIENT, str(port), str(tmp_path / "out.txt")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result, netaudit.read(log)


def test_recording_logs_the_lookup_the_connection_and_the_write(
    tmp_path: Path, listener: socket.socket
) -> None:
    port = listener.getsockname()[1]
    result, events = run(tmp_path, port, verify=False)
    assert result.returncode == 0 and "connected" in result.stdout
    kinds = {(e.kind, e.host, e.port) for e in events if e.network}
    assert ("connect", "127.0.0.1", port) in kinds and ("resolve", "127.0.0.1", port) in kinds
    assert any(e.kind == "write" and e.path == str(tmp_path / "out.txt") for e in events)
    assert all(e.stack[-1] == "__main__" for e in events)


def test_verify_mode_fails_the_attempt_and_still_logs_it(tmp_path: Path, listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    result, events = run(tmp_path, port, verify=True)
    assert result.returncode != 0 and "lambdakit verify: the network is cut" in result.stderr
    assert [e.kind for e in events if e.network] == ["resolve"]
    assert not (tmp_path / "out.txt").exists()
