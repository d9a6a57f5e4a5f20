"""The Runtime Interface Emulator: where it listens, what it logs, what an answer means.

Standard library only. Everything that reads the emulator's output goes through here: the faithful run, bench
and tune, and the rehearsal's invoke (which also tells `FunctionError` from a success with `verdict`).

What the emulator does (seen with aws-lambda-rie from aws-sam-cli 1.170):
* it answers HTTP 200 for every invoke the runtime answered, including a handler exception (an `errorType`
  body) and a timeout (`Task timed out after N seconds`); 502 `Runtime.ExitError` when the runtime died
  (`signal: killed` after an out-of-memory kill); a body that is not JSON gives `Runtime.UnmarshalError`;
* it starts the runtime lazily at the first request and logs `INIT REPORT(durationMs: ...)` for that init;
* it logs one `REPORT RequestId: ... Duration: ... ms` per invoke just after answering (its `Max Memory Used`
  is the configured size, not a measurement: read the cgroup instead).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

PORT = 8080

Outcome = Literal["ok", "error response", "function error", "timeout", "out of memory", "crashed"]
# What Lambda reports as a failed invocation (`FunctionError: Unhandled`); an error response is an answer.
FAILED: frozenset[Outcome] = frozenset({"function error", "timeout", "out of memory", "crashed"})

_INIT_REPORT = re.compile(r"INIT REPORT\(durationMs: (?P<ms>[0-9.]+)\)")
_REPORT = re.compile(
    r"^REPORT RequestId: \S+\s+(?:Init Duration: (?P<init>[0-9.]+) ms\s+)?Duration: (?P<ms>[0-9.]+) ms",
    re.MULTILINE,
)
_RTDONE = re.compile(r"INVOKE RTDONE\(status: \w+, produced bytes: \d+, duration: (?P<ms>[0-9.]+)ms\)")
_TIMED_OUT = re.compile(r"Task timed out after [\d.]+ seconds")


@dataclass(frozen=True)
class Report:
    """One `REPORT` line: the invoke's duration (what Lambda bills) and, on the first, the init it saw."""

    duration_ms: float
    init_ms: float | None


def init_duration_ms(log: str) -> float | None:
    """The runtime's init phase (imports, model load) from the emulator's `INIT REPORT` line."""
    match = _INIT_REPORT.search(log)
    return float(match["ms"]) if match else None


def reports(log: str) -> list[Report]:
    """Every `REPORT` line of LOG, in order."""
    return [Report(float(m["ms"]), float(m["init"]) if m["init"] else None) for m in _REPORT.finditer(log)]


def invoke_duration_ms(log: str) -> float | None:
    """The runtime's duration of the last invoke in LOG (`INVOKE RTDONE`, else the `REPORT` line)."""
    done = _RTDONE.findall(log)
    if done:
        return float(done[-1])
    found = reports(log)
    return found[-1].duration_ms if found else None


def has_report(log: str) -> bool:
    return "REPORT RequestId" in log


def decode(body: str) -> Any:
    """The answer as JSON, or the text itself when it is not JSON."""
    try:
        return json.loads(body)
    except json.JSONDecodeError:
        return body


def runtime_error(payload: Any) -> tuple[str, str] | None:
    """(errorType, errorMessage) when the runtime reports the handler raised or the runtime failed."""
    if isinstance(payload, dict) and "errorType" in payload:
        return str(payload["errorType"]), str(payload.get("errorMessage", ""))
    return None


def handler_error(payload: Any) -> tuple[str, str] | None:
    """(type, message) of the handler's own error answer, direct (`{"error": ...}`) or proxy (statusCode)."""
    if not isinstance(payload, dict):
        return None
    if "statusCode" in payload:
        try:
            status = int(payload["statusCode"])
        except (TypeError, ValueError):
            return None
        if status < 400:
            return None
        body = decode(str(payload.get("body", "")))
        return handler_error(body) or (f"HTTP {status}", str(body)[:500])
    error = payload.get("error")
    if isinstance(error, dict):
        return str(error.get("type", "Error")), str(error.get("message", ""))
    if error is not None:
        return "Error", str(error)
    return None


def verdict(status: int, body: str, log: str = "") -> Outcome:
    """What an answer means. STATUS 0 = the client gave up waiting; LOG = the emulator's log of the invoke."""
    if status == 0 or _TIMED_OUT.search(body) or "Reset initiated: Timeout" in log:
        return "timeout"
    if status == 502 or "Runtime.ExitError" in body:
        return "out of memory" if "signal: killed" in f"{body}{log}" else "crashed"
    if status != 200:
        return "crashed"
    payload = decode(body)
    if runtime_error(payload) is not None:
        return "function error"
    if handler_error(payload) is not None:
        return "error response"
    return "ok"
