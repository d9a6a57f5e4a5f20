"""The dev loop's handler runner (`commands/dev.py` is `python -m lambdakit dev`): events through a handler
imported by name in this process, once, as a Lambda execution environment does (the first event pays the
import, the others reuse it).

Prints each response as JSON; `run` returns 0 when every event succeeded, 1 when an event is broken (one
line, the other events still run), the handler raised or answered an error. An exception from the user's
code shows as their traceback (the kit's and the import machinery's frames left out) and one line from the
kit. Standard library only, so it runs in any environment that holds the function's own packages; the kit's
other commands never import the function.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import runpy
import sys
import sysconfig
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambdakit.config.target import LAMBDA
from lambdakit.core import events, settings
from lambdakit.core.errors import BrokenEvent, ConfigError, HandlerFailed

Handler = Callable[[Any, Any], Any]
EVENTS_DIRNAME = "events"
# Frames a user's traceback leaves out: the kit's own, importlib's and runpy's (`python -m lambdakit`).
KIT_FRAMES = (Path(__file__).resolve().parents[1], Path(importlib.__file__).resolve().parent)
RUNPY = Path(runpy.__file__).resolve()
# Where a module is not the function's code (sysconfig's names; site-packages lie under platstdlib in a venv,
# so the packages come first).
INSTALLED = {
    "purelib": "an installed package",
    "platlib": "an installed package",
    "stdlib": "the standard library",
    "platstdlib": "the standard library",
}


@dataclass
class LocalContext:
    """The parts of Lambda's context object a handler usually reads."""

    function_name: str = "local"
    memory_limit_in_mb: str = field(
        default_factory=lambda: os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", str(LAMBDA.mb_per_vcpu))
    )
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    deadline: float = field(default_factory=lambda: time.monotonic() + LAMBDA.max_timeout_s)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:local:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def load_handler(name: str) -> Handler:
    """Import `module.function`; a missing module or function is the project's setting, said in one line.
    An error raised by the handler's own module is the user's: their traceback (their frames only), then
    one line from the kit."""
    module_name, _, function_name = name.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        if isinstance(exc, ModuleNotFoundError) and _names_the_module(exc, module_name):
            raise ConfigError(
                f"cannot import {module_name!r} (the module of [tool.lambdakit] handler = {name!r}): put it "
                f"under src/ or set handler in pyproject.toml to your function's module.function."
            ) from None
        print(user_traceback(exc), end="", file=sys.stderr)
        raise HandlerFailed(
            f"importing {module_name} (the module of [tool.lambdakit] handler = {name!r}) raised "
            f"{type(exc).__name__}: fix your code where the traceback above points, then rerun."
        ) from None
    check_origin(module, name)
    handler = getattr(module, function_name, None)
    if not callable(handler):
        raise ConfigError(
            f"{module_name} has no function {function_name!r} ([tool.lambdakit] handler = {name!r}): "
            f"define it or set handler in pyproject.toml."
        )
    check_signature(handler, name)
    return handler  # type: ignore[no-any-return]


def _names_the_module(exc: ModuleNotFoundError, module_name: str) -> bool:
    """The handler's module (or a package above it) is missing, rather than something it imports."""
    return exc.name is not None and (module_name + ".").startswith(exc.name + ".")


def check_origin(module: Any, name: str) -> None:
    """The handler's module must be the function's own code: one from the standard library or an installed
    package (`requests.get`) would run here and never ship, since the image's code layer is src/."""
    origin = getattr(module, "__file__", None)
    if origin is None:
        return
    path = Path(origin).resolve()
    for kind, what in INSTALLED.items():
        if path.is_relative_to(Path(sysconfig.get_path(kind)).resolve()):
            raise HandlerFailed(
                f"[tool.lambdakit] handler = {name!r} is in {path} ({what}), not your function's code: set "
                "handler in pyproject.toml to the module.function under src/ that Lambda calls."
            )


def check_signature(handler: Any, name: str) -> None:
    """Lambda calls `handler(event, context)`: refuse, before the first event, a callable that cannot take
    them (`os.system`, a function of one argument), in one line."""
    try:
        signature = inspect.signature(handler)
    except (TypeError, ValueError):  # some built-in callables publish no signature: the first call tells
        return
    try:
        signature.bind(None, None)
    except TypeError:
        raise HandlerFailed(
            f"[tool.lambdakit] handler = {name!r} takes {signature}, but Lambda calls it with (event, "
            f"context): set handler in pyproject.toml to your function, e.g. `def lambda_handler(event, "
            f"context)`."
        ) from None


def _is_kit_frame(filename: str) -> bool:
    """A frame of the kit, of runpy (`python -m`) or of the import machinery: not the user's code."""
    if filename.startswith(("<frozen importlib", "<frozen runpy")):
        return True
    path = Path(filename).resolve()
    return path == RUNPY or any(path.is_relative_to(folder) for folder in KIT_FRAMES)


def user_traceback(exc: BaseException) -> str:
    """EXC's traceback with the user's frames only (its causes and contexts too)."""
    shown = traceback.TracebackException.from_exception(exc)
    pending, seen = [shown], set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        frames = [frame for frame in current.stack if not _is_kit_frame(frame.filename)]
        current.stack = traceback.StackSummary.from_list(frames)
        nested = [current.__cause__, current.__context__, *(getattr(current, "exceptions", None) or [])]
        pending += [item for item in nested if item is not None]
    return "".join(shown.format())


def read_event(source: str) -> Any:
    """A file path, `-` for stdin, or inline JSON; `BrokenEvent` (one line) when Lambda would refuse it."""
    if source == "-":
        return events.parse(sys.stdin.buffer.read(), "stdin")
    if Path(source).is_file():
        return events.read(Path(source))
    if source.lstrip()[:1] in ("{", "[", '"'):
        return events.parse(source, "the inline event")
    raise ConfigError(f"{source!r} is neither an event file nor inline JSON (or `-` for stdin).")


def is_error_response(response: Any) -> bool:
    """The conventions of proxy integrations (`statusCode`) and of error payloads (`error`)."""
    if not isinstance(response, dict):
        return False
    status = response.get("statusCode")
    if isinstance(status, int) and not isinstance(status, bool):
        return status >= 400
    return "error" in response


def default_events(repo: Path = settings.REPO_ROOT) -> list[str]:
    events = sorted((repo / EVENTS_DIRNAME).glob("*.json"))
    if not events:
        raise ConfigError(f"no sample events in {repo / EVENTS_DIRNAME}: add one JSON file per event.")
    here = Path.cwd()
    return [str(path.relative_to(here)) if path.is_relative_to(here) else str(path) for path in events]


def run(handler_name: str, sources: list[str], function_name: str) -> int:
    """Every event through one loaded handler; the exit status of the worst outcome. A broken event fails
    alone, with one line; a source that is neither file nor JSON stops the run before the import."""
    loaded: list[tuple[str, Any]] = []
    status = 0
    for source in sources:
        try:
            loaded.append((source, read_event(source)))
        except BrokenEvent as exc:
            print(f"error: {exc} (not run; the other events still run)", file=sys.stderr)
            status = 1
    if not loaded:
        return status
    started = time.perf_counter()
    handler = load_handler(handler_name)
    print(f"# {handler_name} loaded in {(time.perf_counter() - started) * 1000:.0f} ms", file=sys.stderr)
    for source, event in loaded:
        status = max(status, run_one(handler, source, event, function_name))
    return status


def run_one(handler: Handler, source: str, event: Any, function_name: str) -> int:
    """One event through HANDLER: its answer on stdout, one line on stderr; 1 when it failed."""
    started = time.perf_counter()
    try:
        response = handler(event, LocalContext(function_name=function_name))
    except Exception as exc:
        print(user_traceback(exc), end="", file=sys.stderr)
        print(
            f"# {source}: the handler raised {type(exc).__name__}: fix your code where the traceback above "
            "points (or the event); the other events still run",
            file=sys.stderr,
        )
        return 1
    took = (time.perf_counter() - started) * 1000
    try:
        text = json.dumps(response, indent=2, ensure_ascii=False, default=str)
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: escaped, as Lambda's own serialiser writes it
        text = json.dumps(response, indent=2, default=str)
    except (ValueError, RecursionError) as exc:
        print(
            f"# {source}: the response cannot be written as JSON ({type(exc).__name__}: {exc}); Lambda "
            "fails it too (Runtime.MarshalError): return dicts, lists, strings and numbers",
            file=sys.stderr,
        )
        return 1
    print(text)
    failed = is_error_response(response)
    print(f"# {source}: {'error response' if failed else 'ok'} in {took:.1f} ms", file=sys.stderr)
    return int(failed)
