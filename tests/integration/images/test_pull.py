"""`engine.pull_by_digest` gives up on a registry that accepts the engine's connection and never answers.

The Docker SDK's pull has no timeout at all; the kit bounds the silence. The registry here is a socket on
127.0.0.1 that accepts and holds every connection (the engine treats loopback registries as plain HTTP).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from lambdakit.core.errors import DockerUnavailable
from lambdakit.images import engine

pytestmark = pytest.mark.docker


@pytest.fixture
def silent_registry() -> Iterator[str]:
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                held.append(server.accept()[0])  # never read, never answered

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for connection in held:  # the engine's pull then fails, and the kit's reader thread ends
        connection.close()
    server.close()


def test_a_pull_from_a_registry_that_never_answers_is_given_up_in_one_line(silent_registry: str) -> None:
    reference = f"{silent_registry}/lambdakit-test-assetlock-silent@sha256:{'0' * 64}"
    started = time.monotonic()
    with pytest.raises(DockerUnavailable) as caught:
        engine.pull_by_digest(reference, stall_timeout_s=2)
    assert time.monotonic() - started < 20
    message = str(caught.value)
    assert "got nothing from the engine for 2 s" in message and "\n" not in message
