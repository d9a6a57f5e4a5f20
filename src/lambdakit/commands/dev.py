"""`python -m lambdakit dev [EVENT ...]` (`nox -s dev`): run events through the configured handler, no Docker.

The handler is `[tool.lambdakit] handler` (default `inference.handler.lambda_handler`), imported by name in
this process, once: like a Lambda execution environment, the first event pays the import (the cold start)
and the others reuse it (`lambdakit.runtime.dev`). EVENT is a file, `-` (stdin) or inline JSON; without
EVENTs, every `events/*.json`.

Prints each response as JSON. Exit status: 0 when every event succeeded, 1 when an event is broken (not
one JSON document in UTF-8: one line, and the other events still run), the handler raised or answered an
error (`statusCode` >= 400, or a top-level `error`), 2 when the handler cannot be found, imported or called
with (event, context). Standard library only, and so is everything it imports: it runs in the function's own
environment (its packages, no rich, boto3 or docker).
"""

from __future__ import annotations

import argparse
import sys

from lambdakit.core import config, settings
from lambdakit.runtime import dev


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lambdakit dev", description=__doc__.splitlines()[0])
    parser.add_argument("events", nargs="*", help="event files, '-' or inline JSON (default: events/*.json)")
    parser.add_argument("--handler", default=None, help="module.function (default: [tool.lambdakit] handler)")
    return parser


def cli(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    project = config.load()
    source = str(settings.REPO_ROOT / "src")
    if source not in sys.path:  # the function lives in src/ beside the kit: no PYTHONPATH needed
        sys.path.insert(0, source)
    return dev.run(args.handler or project.handler, args.events or dev.default_events(), project.project)
