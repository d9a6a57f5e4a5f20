"""The snapshot's audit: its hook (`sitecustomize.py` here) logs every Python process's network and writes.

This directory goes first on the command's PYTHONPATH, so Python imports the hook at start-up in the
command and in every Python process it starts. Only `sitecustomize.py` may live beside this file:
anything else here would shadow a top-level module of the command.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

HOOK_DIR = Path(__file__).resolve().parent
LOG_ENV = "LAMBDAKIT_AUDIT_LOG"
MODE_ENV = "LAMBDAKIT_AUDIT_MODE"


@dataclass(frozen=True)
class Event:
    """One line of the log: `resolve`, `connect`, `send` (host, port) or `write` (path)."""

    kind: str
    host: str = ""
    port: int | None = None
    path: str = ""
    stack: tuple[str, ...] = field(default=())
    pid: int = 0

    @property
    def network(self) -> bool:
        return self.kind in {"resolve", "connect", "send"}


def env(log: Path, verify: bool, pythonpath: str | None) -> dict[str, str]:
    """The variables that load the hook into a command: PYTHONPATH first, the log, the mode."""
    path = os.pathsep.join(p for p in (str(HOOK_DIR), pythonpath) if p)
    return {"PYTHONPATH": path, LOG_ENV: str(log), MODE_ENV: "verify" if verify else "record"}


def read(log: Path) -> list[Event]:
    """The events of a log; a line cut short by a killed process is skipped."""
    if not log.is_file():
        return []
    events = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            raw = json.loads(line)
        except json.JSONDecodeError:
            continue
        events.append(
            Event(
                kind=str(raw.get("event", "")),
                host=str(raw.get("host") or ""),
                port=raw.get("port"),
                path=str(raw.get("path") or ""),
                stack=tuple(raw.get("stack") or ()),
                pid=int(raw.get("pid") or 0),
            )
        )
    return events
