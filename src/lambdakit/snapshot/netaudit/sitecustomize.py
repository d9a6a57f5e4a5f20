"""lambdakit's audit hook, loaded into every Python process a snapshot runs (its directory leads PYTHONPATH).

Appends one JSON line per event to $LAMBDAKIT_AUDIT_LOG: name look-ups and TCP/UDP connections (host,
port) and files opened for writing (path), each with the calling modules, innermost first, so the kit
can tell which library asked. With LAMBDAKIT_AUDIT_MODE=verify every look-up and connection attempt
fails as a cut network would. Standard library only, and cheap: it runs on every audited event.
After installing itself it runs the sitecustomize it shadows, if there is one.
"""

from __future__ import annotations

# ruff: noqa: PTH100, PTH113, PTH118, PTH120, PTH123 - os.path keeps pathlib out of every process's start-up
import errno
import json
import os
import socket
import sys
import threading
from types import FrameType
from typing import Any

LOG_ENV = "LAMBDAKIT_AUDIT_LOG"
MODE_ENV = "LAMBDAKIT_AUDIT_MODE"
EVENTS = frozenset(
    {"socket.getaddrinfo", "socket.connect", "socket.sendto", "open", "os.rename", "os.symlink"}
)
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
SKIP_PREFIXES = ("/proc/", "/dev/", "/sys/")
MAX_STACK = 16

_state = threading.local()


def _stack() -> list[str]:
    """Top-level module names of the calling frames, innermost first, consecutive repeats folded."""
    names: list[str] = []
    frame: FrameType | None = sys._getframe(3)  # skip _stack, on_*, __call__
    while frame is not None and len(names) < MAX_STACK:
        module = str(frame.f_globals.get("__name__") or "?").partition(".")[0]
        if not names or names[-1] != module:
            names.append(module)
        frame = frame.f_back
    return names


class _Audit:
    def __init__(self, log_path: str, verify: bool) -> None:
        self.fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o666)
        self.verify = verify
        self.written: set[str] = set()

    def emit(self, record: dict[str, Any]) -> None:
        record["pid"] = os.getpid()
        os.write(self.fd, (json.dumps(record, default=str) + "\n").encode())

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if event not in EVENTS or getattr(_state, "busy", False):
            return
        _state.busy = True
        try:
            if event == "open":
                self.on_open(*args[:3])
            elif event in ("os.rename", "os.symlink"):
                self.on_write(args[1])  # downloads land by rename (temp file) or symlink (the Hub cache)
            elif event == "socket.getaddrinfo":
                self.on_resolve(args[0], args[1])
            else:
                self.on_connect(event, args[0], args[1])
        finally:
            _state.busy = False

    def on_open(self, path: Any, mode: Any, flags: Any) -> None:
        if isinstance(flags, int) and flags & WRITE_FLAGS:
            self.on_write(path)

    def on_write(self, path: Any) -> None:
        if isinstance(path, int):
            return
        name = os.path.abspath(os.fsdecode(path))
        if name in self.written or name.startswith(SKIP_PREFIXES):
            return
        self.written.add(name)
        self.emit({"event": "write", "path": name, "stack": _stack()})

    def on_resolve(self, host: Any, port: Any) -> None:
        if host is None:
            return
        host = os.fsdecode(host) if isinstance(host, bytes) else str(host)
        self.emit({"event": "resolve", "host": host, "port": _port(port), "stack": _stack()})
        if self.verify:
            raise socket.gaierror(
                socket.EAI_AGAIN, f"lambdakit verify: the network is cut (look-up of {host})"
            )

    def on_connect(self, event: str, sock: Any, address: Any) -> None:
        if getattr(sock, "family", None) not in (socket.AF_INET, socket.AF_INET6):
            return
        host, port = (address[0], address[1]) if isinstance(address, tuple) else (str(address), None)
        self.emit(
            {
                "event": "connect" if event == "socket.connect" else "send",
                "host": str(host),
                "port": _port(port),
                "stack": _stack(),
            }
        )
        if self.verify:
            raise OSError(
                errno.ENETUNREACH, f"lambdakit verify: the network is cut (connection to {host}:{port})"
            )


def _port(port: Any) -> int | None:
    try:
        return int(port)
    except (TypeError, ValueError):
        return None


def _run_shadowed_sitecustomize() -> None:
    """Python imports only the first sitecustomize on sys.path: run the one this file hides."""
    here = os.path.dirname(os.path.abspath(__file__))
    for entry in sys.path:
        candidate = os.path.join(entry or ".", "sitecustomize.py")
        if os.path.abspath(entry or ".") != here and os.path.isfile(candidate):
            namespace = {"__name__": "sitecustomize", "__file__": candidate}
            with open(candidate, "rb") as source:
                exec(compile(source.read(), candidate, "exec"), namespace)  # noqa: S102 - the site's own hook
            return


def install() -> None:
    log_path = os.environ.get(LOG_ENV)
    if log_path:
        sys.addaudithook(_Audit(log_path, verify=os.environ.get(MODE_ENV) == "verify"))


install()
_run_shadowed_sitecustomize()
