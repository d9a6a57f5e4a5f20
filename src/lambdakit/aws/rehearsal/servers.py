"""Starting and stopping the local servers the kit runs (moto, docker-registry): a free loopback port, a
process with its output in a log file, a wait until it answers HTTP, a stop by pid."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from lambdakit.core.errors import RehearsalFailed

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spawn(argv: Sequence[str], log: Path, env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start ARGV with its stdout and stderr appended to LOG."""
    handle: IO[bytes] = log.open("ab")
    try:
        return subprocess.Popen(argv, stdout=handle, stderr=subprocess.STDOUT, env=env)
    except OSError as exc:
        raise RehearsalFailed(f"cannot start {argv[0]}: {exc}") from exc
    finally:
        handle.close()


def wait_http(process: subprocess.Popen[bytes], url: str, what: str, log: Path) -> None:
    """Until URL answers (any HTTP status); fail with the log's last line if PROCESS exits or never does."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RehearsalFailed(f"{what} exited with {process.returncode} at start: {last_line(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310  (a loopback URL we built)
                return
        except urllib.error.HTTPError:
            return  # it answers, even if not with 200
        except OSError:
            time.sleep(0.1)
    raise RehearsalFailed(f"{what} did not answer on {url} within {START_TIMEOUT_S:.0f} s: {last_line(log)}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server this process started (by its pid): SIGTERM, then SIGKILL if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def last_line(log: Path) -> str:
    lines = log.read_text(errors="replace").strip().splitlines() if log.is_file() else []
    return lines[-1] if lines else "(no output)"
