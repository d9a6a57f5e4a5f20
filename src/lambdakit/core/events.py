"""Sample events (events/*.json, an EVENT argument) checked as Lambda's runtime would parse them: one JSON
document in UTF-8. A broken event is one `BrokenEvent` line naming it, so the runs that read several events
(`dev`, `local`) fail that event alone and go on with the others.

Standard library only (`python -m lambdakit dev` runs in the function's own environment).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lambdakit.core import files
from lambdakit.core.errors import BrokenEvent, BrokenFile

FIX = "an event is one JSON document in UTF-8, as Lambda parses it: fix the event or remove it"


def parse(raw: bytes | str, name: str) -> Any:
    """The event the handler would receive for the payload RAW; `BrokenEvent` when Lambda would refuse it."""
    try:
        text = files.decode(raw, name, FIX) if isinstance(raw, bytes) else raw
        return files.parse_json(text, name, FIX)
    except BrokenFile as exc:
        raise BrokenEvent(str(exc)) from None


def read(path: Path) -> Any:
    """The event in the file PATH (a missing or unreadable file is a `BrokenEvent` too)."""
    name = files.display(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BrokenEvent(
            f"{name} cannot be read ({exc.strerror or exc}); pass the path of a JSON file"
        ) from None
    return parse(raw, name)


def check(path: Path) -> None:
    """Raise `BrokenEvent` unless PATH holds an event Lambda would accept (for runs that send the bytes)."""
    read(path)
