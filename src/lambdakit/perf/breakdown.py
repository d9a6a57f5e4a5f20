"""Where a cold start goes, for any function, and the floor it cannot go below.

One extra cold start per side runs with `PYTHONPROFILEIMPORTTIME=1` (Python's `-X importtime`, on stderr, so
in the function's log). The runtime client imports the handler with `importlib.import_module`, which the
profile does not time, so the handler's own imports show as top-level lines after the runtime client's
(`awslambdaric...`). With the emulator's INIT REPORT and the first invoke's duration (its `INVOKE RTDONE`
line; the first REPORT `Duration` of the emulator includes the lazy init) the cold start is cut into:
runtime start (container, emulator, interpreter), the runtime client's imports, the handler's imports, the
handler module's own code (the model load, for a function that loads at import) and the first invoke. The
floor is the cold start of an empty handler on the same base, measured the same way.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

IMPORTTIME_ENV = {"PYTHONPROFILEIMPORTTIME": "1"}
RUNTIME_PACKAGE = "awslambdaric"
_IMPORT_LINE = re.compile(
    r"^import time:\s+(?P<self>\d+) \|\s+(?P<cumulative>\d+) \|(?P<indent> *)(?P<module>\S+)\s*$",
    re.MULTILINE,
)
_FIRST_INVOKE = re.compile(r"INVOKE RTDONE\(status: \w+, produced bytes: \d+, duration: (?P<ms>[0-9.]+)ms\)")
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
    runtime_imports_ms: float
    imports_ms: float
    init_code_ms: float
    first_invoke_ms: float

    def as_dict(self) -> dict[str, float]:
        return {key: round(value, 1) for key, value in asdict(self).items()}


def top_level_imports(log: str) -> tuple[float, float] | None:
    """(runtime client's, handler's) import ms: top-level lines up to the runtime's last, then the rest."""
    matches = _IMPORT_LINE.finditer(log)
    lines = [(m["module"], int(m["cumulative"]) / 1000) for m in matches if m["indent"] == " "]
    runtime = [i for i, (module, _) in enumerate(lines) if module.split(".")[0] == RUNTIME_PACKAGE]
    if not runtime:
        return None
    last = runtime[-1]
    return sum(ms for _, ms in lines[: last + 1]), sum(ms for _, ms in lines[last + 1 :])


def first_invoke_ms(log: str) -> float | None:
    match = _FIRST_INVOKE.search(log)
    return float(match["ms"]) if match else None


def breakdown(cold_start_ms: float, init_report_ms: float, log: str) -> Breakdown | None:
    """The parts of one profiled cold start; None when its log lacks the profile or the invoke line."""
    imports, invoke = top_level_imports(log), first_invoke_ms(log)
    if imports is None or invoke is None:
        return None
    runtime_imports, handler_imports = imports
    return Breakdown(
        cold_start_ms=cold_start_ms,
        runtime_start_ms=max(0.0, cold_start_ms - init_report_ms - invoke),
        runtime_imports_ms=runtime_imports,
        imports_ms=handler_imports,
        init_code_ms=max(0.0, init_report_ms - runtime_imports - handler_imports),
        first_invoke_ms=invoke,
    )


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
