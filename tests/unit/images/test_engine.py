"""An engine that accepts connections but never answers: a one-line error within seconds, not a hang.

The fake engines are real Unix sockets that DOCKER_HOST points at: one accepts (the kernel completes the
connection) but never reads or writes, as a wedged dockerd does; the other answers the SDK's handshake
(`/version`, `/_ping`) and then goes silent.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdakit.core.errors import DockerUnavailable
from lambdakit.images import engine

HANDSHAKE = {"/version": json.dumps({"ApiVersion": "1.41", "Version": "20.10.24"}), "/_ping": "OK"}


class FakeEngine:
    """A Unix-socket server; `answers` maps a path prefix to a body, every other request hangs."""

    def __init__(self, path: Path, answers: dict[str, str]) -> None:
        self.path, self.answers = path, answers
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen(16)
        self.server.settimeout(0.2)
        self.connections: list[socket.socket] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                connection = self.server.accept()[0]
            except TimeoutError:
                continue
            self.connections.append(connection)
            if self.answers:
                threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection.makefile("rb") as requests:
            while line := requests.readline():
                path = line.split()[1].decode() if len(line.split()) > 1 else ""
                while requests.readline() not in (b"\r\n", b""):
                    pass  # headers; the SDK's handshake sends no body
                body = next((b for prefix, b in self.answers.items() if prefix in path), None)
                if body is None:
                    return  # silent from here on
                data = body.encode()
                head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(data)}\r\n\r\n".encode()
                connection.sendall(head + data)

    def __enter__(self) -> str:
        self.thread.start()
        return f"unix://{self.path}"

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        for connection in self.connections:
            connection.close()
        self.server.close()


@pytest.fixture
def fresh_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    engine._client.cache_clear()
    yield monkeypatch
    engine._client.cache_clear()


def test_an_engine_that_never_answers_gets_a_one_line_error_naming_it(
    tmp_path: Path, fresh_client: pytest.MonkeyPatch
) -> None:
    with FakeEngine(tmp_path / "docker.sock", {}) as address:
        fresh_client.setenv("DOCKER_HOST", address)
        with pytest.raises(DockerUnavailable) as raised:
            engine.image_exists("lambdakit-test-timeouts:none")
    message = str(raised.value)
    assert "\n" not in message
    assert f"No Docker engine answers at {address} within {engine.PING_TIMEOUT_S:.0f} s" in message
    assert "DOCKER_HOST" in message


def test_an_engine_that_goes_silent_after_the_handshake_gets_a_one_line_error(
    tmp_path: Path, fresh_client: pytest.MonkeyPatch
) -> None:
    fresh_client.setattr(engine, "CALL_TIMEOUT_S", 1.0)
    with FakeEngine(tmp_path / "docker.sock", HANDSHAKE) as address:
        fresh_client.setenv("DOCKER_HOST", address)
        with pytest.raises(DockerUnavailable) as raised:
            engine.image_exists("lambdakit-test-timeouts:none")
    message = str(raised.value)
    assert "\n" not in message
    assert (
        f"The Docker engine at {address} stopped answering while looking up lambdakit-test-timeouts:none"
        in message
    )
    assert "nothing within 1 s" in message
