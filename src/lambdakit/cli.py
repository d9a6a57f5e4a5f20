"""`python -m lambdakit COMMAND ...`: one entry point; each command lives in its own module.

A command module exposes `cli(argv: list[str]) -> int` and builds its own argparse parser. `KitError`s
print as one line (`error: ...`) with exit status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys

from lambdakit.core.errors import KitError
from lambdakit.core.settings import VERBOSE_ENV

COMMANDS: dict[str, tuple[str, str]] = {
    "dev": ("lambdakit.commands.dev", "run sample events through the configured handler, no Docker"),
    "env": ("lambdakit.commands.env", "print the kit's ENV block for a cache root"),
    "base-image": ("lambdakit.commands.base_image", "build the offline stand-in Lambda Python base image"),
    "check-devcontainer": (
        "lambdakit.commands.check_devcontainer",
        "refuse a Dev Container whose Python is not [tool.lambdakit] python",
    ),
    "assets": (
        "lambdakit.commands.assets",
        "build the FROM-scratch asset image from build/assets/assets.tar",
    ),
    "build": ("lambdakit.commands.build", "stage deps and code, then `sam build` the function image"),
    "local": (
        "lambdakit.commands.local",
        "invoke the sample events: sam local invoke, or --faithful Lambda limits",
    ),
    "snapshot": (
        "lambdakit.commands.snapshot",
        "record hidden downloads, write build/assets/assets.tar, verify offline",
    ),
    "deploy": ("lambdakit.commands.deploy", "push the images to ECR and `sam deploy` the stack (real AWS)"),
    "invoke": (
        "lambdakit.commands.invoke",
        "invoke the function through the AWS SDK (RequestResponse, log tail)",
    ),
    "rehearse": ("lambdakit.commands.rehearse", "deploy, invoke, redeploy against a local AWS stand-in"),
    "bench": (
        "lambdakit.commands.bench",
        "the kit beside the torch baseline: cold start, latency, size, push cost",
    ),
    "tune": ("lambdakit.commands.tune", "local Power Tuning: MemorySize/Timeout by cost, speed or balance"),
    "snapstart-check": (
        "lambdakit.commands.snapstart_check",
        "init, snapshot and restore the handler twice (fork): what SnapStart would break",
    ),
}


def usage() -> str:
    lines = ["usage: python -m lambdakit COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<12} {summary}" for name, (_, summary) in sorted(COMMANDS.items())]
    return "\n".join(lines)


def setup_logging() -> None:
    """Log records through `console.setup` (rich on a terminal, one plain line each elsewhere); plain lines
    where rich is absent (`env` on a bare interpreter). LAMBDAKIT_VERBOSE=1 adds the debug records."""
    try:
        from lambdakit import console
    except ImportError:
        logging.basicConfig(level=logging.INFO, format="%(message)s")
        return
    console.setup(verbose=os.environ.get(VERBOSE_ENV) == "1")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in {"-h", "--help"}:
        print(usage())
        return 0 if args else 2
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"error: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    setup_logging()
    module = importlib.import_module(COMMANDS[name][0])
    try:
        return int(module.cli(rest))
    except KitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
