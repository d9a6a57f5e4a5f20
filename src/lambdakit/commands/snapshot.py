"""`python -m lambdakit snapshot [OPTIONS] [-- COMMAND ...]`: find hidden downloads, ship them.

Runs COMMAND (default: the project's `[tool.lambdakit] prepare` hook if it has one, then every sample event
through the configured handler with `python -m lambdakit dev`) in a sandbox with a fresh HOME and an empty
cache root, records every file it leaves and every host it contacts, attributes each to a library
(`lambdakit.snapshot.caches`), and writes:

  build/assets/assets.tar    the cache root's files under their image path (/cache/...), reproducible,
                             plus the committed files `[tool.lambdakit] assets` names (/cache/code-assets/...)
  build/assets/report.json   files, network, excluded secrets, unknown files, flags, tarball, verify;
                             `"assets": "none"` (and no tarball) when there is nothing to ship: a function
                             that downloads nothing then builds without an asset image
  build/assets/snapshot.log  everything the command printed

Then it verifies (unless --no-verify): the same COMMAND again (without the build-time prepare hook) with
only the tarball's files, offline, without network and read-only but for /tmp. `--verify` alone checks an
existing tarball. The sandbox keeps the caller's environment (HF_ENDPOINT, HF_TOKEN, the pipeline's own
variables) and replaces only HOME, TMPDIR and the cache variables.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from lambdakit.core import config
from lambdakit.core.errors import ConfigError
from lambdakit.core.settings import REPO_ROOT, build_dir
from lambdakit.snapshot import outputs, reaper, tarball
from lambdakit.snapshot.options import Options, default_commands, prepare_commands
from lambdakit.snapshot.summary import print_verify
from lambdakit.snapshot.take import snapshot
from lambdakit.snapshot.verify import raise_if_failed, verify

# Decimal, as the kit prints sizes (`console.human_bytes`) and as AWS and registries state them.
SIZE_UNITS = {
    "": 1,
    "B": 1,
    "K": 1000,
    "KB": 1000,
    "M": 1000**2,
    "MB": 1000**2,
    "G": 1000**3,
    "GB": 1000**3,
    "T": 1000**4,
    "TB": 1000**4,
}


def parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?B?)\s*", text.upper())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (e.g. 10GB, 500MB, 1048576)")
    return int(float(match.group(1)) * SIZE_UNITS[match.group(2)])


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lambdakit snapshot",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        usage="%(prog)s [-h] [--output DIR] [--max-size SIZE] [--no-verify | --verify] [--keep] "
        "[--python PATH] [--prepare-python PATH] [-- COMMAND ...]",
    )
    parser.add_argument("--output", type=Path, default=build_dir() / "assets", help="default: build/assets")
    parser.add_argument(
        "--max-size",
        type=parse_size,
        default=tarball.DEFAULT_MAX_BYTES,
        help="largest tarball allowed (default 10GB; K/M/G/T are powers of 1000)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--no-verify", dest="verify", action="store_false", help="skip the offline rerun")
    mode.add_argument(
        "--verify",
        dest="verify_only",
        action="store_true",
        help="only verify the existing tarball (no new snapshot)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the sandbox (HOME, cache root, TMPDIR)")
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="the interpreter of the function's environment, which runs the events (default: this one)",
    )
    parser.add_argument(
        "--prepare-python",
        help="the interpreter of the prepare hook's environment (default: --python)",
    )
    parser.add_argument(
        "command", nargs=argparse.REMAINDER, help="after --: the command (default: the pipeline)"
    )
    return parser


def options_from(args: argparse.Namespace, project: config.ProjectConfig) -> Options:
    """The caller's command (after `--`) or the project's default steps; the project's code assets."""
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if command and command[0].startswith("-"):
        raise ConfigError(f"unknown option {command[0]!r}; put the command after `--`")
    code_assets = tuple(config.code_asset_files(project))
    if command:
        return Options(
            (tuple(command),),
            Path.cwd(),
            args.output.resolve(),
            args.max_size,
            args.verify,
            args.keep,
            code_assets=code_assets,
        )
    return Options(
        default_commands(project, python=args.python),
        REPO_ROOT,
        args.output.resolve(),
        args.max_size,
        args.verify,
        args.keep,
        prepare=prepare_commands(project, args.prepare_python or args.python),
        code_assets=code_assets,
    )


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def cli(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    options = options_from(args, config.load())
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
    reaper.die_with_parent()  # a nox session killed by SIGKILL takes the snapshot with it
    for stop in (signal.SIGTERM, signal.SIGHUP):  # unwind, so every step and work folder is cleaned up
        signal.signal(stop, _interrupted)
    if args.verify_only:
        outputs.start(options.output)
        previous = json.loads(options.report.read_text()) if options.report.is_file() else None
        if previous and not args.command:
            options = replace(options, commands=tuple(tuple(c) for c in previous["command"]))
        no_assets = bool(previous and previous.get("assets") == outputs.NO_ASSETS)
        result = verify(options, console, previous, no_assets=no_assets)
        if previous is not None:
            outputs.update_report(options.output, {**previous, "verify": result})
        print_verify(result, console)
        raise_if_failed(result)
        return 0
    report = snapshot(options, console)
    if report["verify"]:
        print_verify(report["verify"], console)
    return 0
