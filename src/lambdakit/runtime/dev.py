"""`python -m lambdakit dev [EVENT ...]` (`nox -s dev`): run events through the configured handler, no Docker.

The handler is `[tool.lambdakit] handler` (default `inference.handler.lambda_handler`), imported by name in
this process, once: like a Lambda execution environment, the first event pays the import (the cold start)
and the others reuse it. EVENT is a file, `-` (stdin) or inline JSON; without EVENTs, every `events/*.json`.

Prints each response as JSON. Exit status: 0 when every event succeeded, 1 when the handler raised or
answered an error (`statusCode` >= 400, or a top-level `error`), 2 when the handler cannot be found.
Standard library only, so it runs in any environment that holds the function's own packages.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambdakit.config.target import LAMBDA
from lambdakit.core import config, settings
from lambdakit.core.errors import ConfigError

Handler = Callable[[Any, Any], Any]
EVENTS_DIRNAME = "events"


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
    """Import `module.function`; a missing module or function is the project's setting, said in one line."""
    module_name, _, function_name = name.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is None or not (module_name + ".").startswith(exc.name + "."):
            raise  # the handler's own imports failed: its traceback says which package is missing
        raise ConfigError(
            f"cannot import {module_name!r} (the module of [tool.lambdakit] handler = {name!r}): put it "
            f"under src/ or set handler in pyproject.toml to your function's module.function."
        ) from exc
    handler = getattr(module, function_name, None)
    if not callable(handler):
        raise ConfigError(
            f"{module_name} has no function {function_name!r} ([tool.lambdakit] handler = {name!r}): "
            f"define it or set handler in pyproject.toml."
        )
    return handler  # type: ignore[no-any-return]


def read_event(source: str) -> Any:
    """A file path, `-` for stdin, or inline JSON; a file that is not JSON reaches the handler as a str."""
    if source == "-":
        raw = sys.stdin.read()
    elif Path(source).is_file():
        raw = Path(source).read_text(encoding="utf-8")
    elif source.lstrip()[:1] in ("{", "[", '"'):
        raw = source
    else:
        raise ConfigError(f"{source!r} is neither an event file nor inline JSON (or `-` for stdin).")
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


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
    """Every event through one loaded handler; the exit status of the worst outcome."""
    events = [(source, read_event(source)) for source in sources]  # bad arguments fail before the import
    started = time.perf_counter()
    handler = load_handler(handler_name)
    print(f"# {handler_name} loaded in {(time.perf_counter() - started) * 1000:.0f} ms", file=sys.stderr)
    status = 0
    for source, event in events:
        started = time.perf_counter()
        try:
            response = handler(event, LocalContext(function_name=function_name))
        except Exception:
            traceback.print_exc()
            print(f"# {source}: the handler raised", file=sys.stderr)
            status = 1
            continue
        took = (time.perf_counter() - started) * 1000
        print(json.dumps(response, indent=2, ensure_ascii=False, default=str))
        failed = is_error_response(response)
        print(f"# {source}: {'error response' if failed else 'ok'} in {took:.1f} ms", file=sys.stderr)
        status = max(status, int(failed))
    return status


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m lambdakit dev", description=__doc__.splitlines()[0])
    parser.add_argument("events", nargs="*", help="event files, '-' or inline JSON (default: events/*.json)")
    parser.add_argument("--handler", default=None, help="module.function (default: [tool.lambdakit] handler)")
    args = parser.parse_args(argv)
    project = config.load()
    source = str(settings.REPO_ROOT / "src")
    if source not in sys.path:  # the function lives in src/ beside the kit: no PYTHONPATH needed
        sys.path.insert(0, source)
    return run(args.handler or project.handler, args.events or default_events(), project.project)
