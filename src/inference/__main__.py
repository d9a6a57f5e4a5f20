"""Run the handler locally on one event: the fast dev loop, no Docker.

    python -m inference events/single.json     # a file
    echo '{"text": "hi"}' | python -m inference -   # stdin
    python -m inference '{"texts": ["a", "b"]}'   # inline JSON
    python -m inference --text "My parcel never arrived"

Prints the handler's response as JSON. Exit status: 0 for a success response, 1 for an error response,
2 when the command itself cannot run (bad arguments, model not prepared or not the recorded bytes).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inference.errors import InvalidSetting, ModelAssetMissing, ModelIntegrityError


@dataclass
class LocalContext:
    """The parts of Lambda's context object a handler usually reads."""

    function_name: str = "inference-local"
    memory_limit_in_mb: str = "1769"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = "arn:aws:lambda:local:000000000000:function:inference-local"
    deadline: float = field(default_factory=lambda: time.monotonic() + 60)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def read_event(source: str) -> Any:
    """A file path, `-` for stdin, or inline JSON. Non-JSON text reaches the handler as a str."""
    if source == "-":
        raw = sys.stdin.read()
    elif Path(source).is_file():
        raw = Path(source).read_text(encoding="utf-8")
    elif source.lstrip()[:1] in ("{", "[", '"'):
        raw = source
    else:
        raise SystemExit(f'error: {source!r} is neither a file nor inline JSON (try --text "..." or -).')
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def is_error_response(response: dict[str, Any]) -> bool:
    if "statusCode" in response:
        return int(response["statusCode"]) >= 400
    return "error" in response


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m inference", description="Run the handler on one event.")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("event", nargs="?", help="event file, '-' for stdin, or inline JSON")
    source.add_argument("--text", help='classify this text (sent as {"text": TEXT})')
    args = parser.parse_args(argv)
    event = {"text": args.text} if args.text is not None else read_event(args.event)
    try:
        from inference.handler import lambda_handler
    except (ModelAssetMissing, ModelIntegrityError, InvalidSetting) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    response = lambda_handler(event, LocalContext())
    print(json.dumps(response, indent=2, ensure_ascii=False))
    return 1 if is_error_response(response) else 0


if __name__ == "__main__":
    sys.exit(main())
