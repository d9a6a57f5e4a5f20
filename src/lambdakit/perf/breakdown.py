"""Where a cold start goes, for any function, and the floor it cannot go below.

One extra cold start per side runs with `PYTHONPROFILEIMPORTTIME=1` (Python's `-X importtime`, on stderr, so
in the function's log). The line of the handler's module splits its import into what it imports (its
libraries) and its own top-level code (for a function that loads its model at import: the model load).
With the first invoke's REPORT `Duration` (the first inference) and the cold start, the rest is the
runtime's start: container, emulator, the runtime interface client up to the handler's import. The
floor is the same measurement of an empty handler on the same base: what no function can go below.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

IMPORTTIME_ENV = {"PYTHONPROFILEIMPORTTIME": "1"}
_IMPORT_LINE = re.compile(
    r"^import time:\s+(?P<self>\d+) \|\s+(?P<cumulative>\d+) \| *(?P<module>\S+)\s*$", re.MULTILINE
)
FLOOR_DOCKERFILE = """\
# An empty handler on the function's base: the cold start no function can go below.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY floor.py /var/task/floor.py
CMD ["floor.handler"]
"""
FLOOR_HANDLER = "def handler(event, context):\n    return {}\n"


@dataclass(frozen=True)
class Breakdown:
    """One cold start cut into its parts (ms); the parts add up to `cold_start_ms`."""

    cold_start_ms: float
    runtime_start_ms: float
    imports_ms: float
    init_code_ms: float
    first_invoke_ms: float

    def as_dict(self) -> dict[str, float]:
        return {key: round(value, 1) for key, value in asdict(self).items()}


def import_times(log: str, module: str) -> tuple[float, float] | None:
    """(own ms, cumulative ms) of MODULE's import from `-X importtime` lines; None if it never appears."""
    for match in _IMPORT_LINE.finditer(log):
        if match["module"] == module:
            return int(match["self"]) / 1000, int(match["cumulative"]) / 1000
    return None


def breakdown(cold_start_ms: float, first_invoke_ms: float, times: tuple[float, float]) -> Breakdown:
    own_ms, cumulative_ms = times
    return Breakdown(
        cold_start_ms=cold_start_ms,
        runtime_start_ms=max(0.0, cold_start_ms - cumulative_ms - first_invoke_ms),
        imports_ms=cumulative_ms - own_ms,
        init_code_ms=own_ms,
        first_invoke_ms=first_invoke_ms,
    )


def handler_module(handler: str) -> str:
    """`pkg.module.function` -> `pkg.module` (Lambda's handler string names a module, then a function)."""
    return handler.rpartition(".")[0]


def stage_floor(context: Path) -> Path:
    """The empty handler's build context (built with BASE_IMAGE as its build arg)."""
    context.mkdir(parents=True, exist_ok=True)
    (context / "Dockerfile").write_text(FLOOR_DOCKERFILE)
    (context / "floor.py").write_text(FLOOR_HANDLER)
    return context


def report(floor_ms: float | None, sides: dict[str, Breakdown | None]) -> dict[str, Any]:
    """The results.json entry: the floor's median cold start and each side's parts (None: unmeasured)."""
    return {
        "floor_cold_start_ms": round(floor_ms, 1) if floor_ms is not None else None,
        "sides": {name: part.as_dict() if part else None for name, part in sides.items()},
    }
