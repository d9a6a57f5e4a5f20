"""`python -m lambdakit invoke` (`nox -s invoke`): invoke the function through the AWS SDK.

The command: its arguments (events, `--text`), the project's settings, template.yaml (the function's timeout)
and samconfig.toml loaded once, then one synchronous call per event (`lambdakit.aws.invoke`), each answer and
log tail printed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from lambdakit.aws import config as aws_config
from lambdakit.aws import invoke
from lambdakit.config import template
from lambdakit.config.target import LAMBDA
from lambdakit.config.template import Template
from lambdakit.core import config, settings
from lambdakit.core.config import ProjectConfig
from lambdakit.core.errors import ConfigError, InvocationError, KitError


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lambdakit invoke",
        description="Invoke the function through the AWS SDK (RequestResponse, no retries, log tail shown).",
    )
    parser.add_argument(
        "events", nargs="*", metavar="EVENT", help="event file, directory, '-' or inline JSON"
    )
    parser.add_argument("--text", help='send {"text": TEXT}')
    parser.add_argument(
        "--function",
        help="function name or ARN (default: from the deployed stack's outputs, its alias with SnapStart)",
    )
    parser.add_argument("--endpoint-url", help="e.g. http://127.0.0.1:3001 for `sam local start-lambda`")
    parser.add_argument("--region", help="AWS region (default: the environment, else samconfig.toml)")
    parser.add_argument(
        "--function-timeout", type=int, help="the function's timeout in s (default: the template's)"
    )
    parser.add_argument("--no-log", action="store_true", help="do not print the log tail")
    return parser


def cli(argv: list[str]) -> int:
    arguments = parser()
    args = arguments.parse_args(argv)
    if not args.events and args.text is None:
        arguments.error("give an EVENT (file, directory, '-' or inline JSON) or --text TEXT")
    events = (
        [("--text", invoke.encode_payload({"text": args.text}))] if args.text is not None else []
    ) + events_in(args.events)

    project = config.load()
    aws = aws_config.load(project, function_template(project))
    timeout = args.function_timeout or aws.function_timeout_s or LAMBDA.max_timeout_s
    local = args.endpoint_url is not None
    region = settings.LOCAL_REGION if local else aws.resolve_region(args.region)
    client = invoke.lambda_client(
        endpoint_url=args.endpoint_url, region=region, function_timeout=timeout, local=local
    )
    name = args.function or (aws_config.FUNCTION_ID if local else _deployed_name(aws, region))
    failures = 0
    for label, payload in events:
        print(f"# invoke {name} <- {label}", flush=True)
        failures += _show(payload, name, client, quiet_log=args.no_log)
    return 1 if failures else 0


def read_event(source: str) -> bytes:
    """EVENT: a file, `-` for stdin, or inline JSON; sent byte for byte, as `aws lambda invoke` would."""
    if source == "-":
        return sys.stdin.buffer.read()
    path = Path(source)
    if path.is_file():
        return path.read_bytes()
    if source.lstrip()[:1] in ("{", "[", '"'):
        return source.encode("utf-8")
    raise ConfigError(
        f"{source!r} is neither a file nor inline JSON; pass a path, '-', or use --text \"...\""
    )


def events_in(paths: list[str]) -> list[tuple[str, bytes]]:
    """Every EVENT argument as (label, payload); a directory stands for its *.json files."""
    found: list[tuple[str, bytes]] = []
    for source in paths:
        path = Path(source)
        if path.is_dir():
            found += [(str(p), p.read_bytes()) for p in sorted(path.glob("*.json"))]
        else:
            found.append((source if path.is_file() else "inline", read_event(source)))
    return found


def function_template(project: ProjectConfig, path: Path = template.TEMPLATE) -> Template | None:
    """template.yaml, read for the function's timeout only: a broken one is `build`'s to report, so invoke
    then waits Lambda's maximum rather than refusing to call a function that is deployed."""
    try:
        return template.load(path, project=project)
    except KitError:
        return None


def _deployed_name(aws: aws_config.AwsConfig, region: str) -> str:
    from lambdakit.aws import deploy  # deploy's imports (docker, rich) only when the stack is asked

    return deploy.deployed_function(aws, region).invoke_name


def _show(payload: bytes, name: str, client: Any, *, quiet_log: bool) -> int:
    """Invoke one event and print the answer; 1 when the function answered with an error."""
    try:
        result = invoke.invoke(payload, name, client=client)
    except InvocationError as exc:
        if exc.log_tail and not quiet_log:
            print(_indent(exc.log_tail), file=sys.stderr)
        print(json.dumps(exc.payload, indent=2, ensure_ascii=False))
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    if result.log_tail and not quiet_log:
        print(_indent(result.log_tail), file=sys.stderr)
    print(json.dumps(result.payload, indent=2, ensure_ascii=False), flush=True)
    return 0


def _indent(text: str) -> str:
    return "\n".join(f"  | {line}" for line in text.rstrip().splitlines())
