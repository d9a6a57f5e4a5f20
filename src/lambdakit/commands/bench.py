"""`python -m lambdakit bench` (`nox -s bench`): the kit's function beside the usual torch approach.

The command: its arguments, the project's settings and template.yaml loaded once, then the run
(`lambdakit.perf.bench.run`), the files and the table (`lambdakit.perf.bench.report`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from lambdakit.config import template
from lambdakit.core import config
from lambdakit.core.errors import ConfigError
from lambdakit.core.settings import build_dir
from lambdakit.images import emulation
from lambdakit.perf.bench import report, sides
from lambdakit.perf.bench.run import run_bench


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lambdakit bench", description=__doc__.splitlines()[0])
    parser.add_argument("--memory", type=int, default=None, help="MemorySize in MB (default: template.yaml)")
    # 9, not 5: on a shared machine single cold starts swing by a third; the median of 9 moves less
    parser.add_argument("--cold-starts", type=int, default=9, help="fresh containers per side (default 9)")
    parser.add_argument(
        "--invokes", type=int, default=200, help="warm invokes per event and side (default 200)"
    )
    parser.add_argument(
        "--push",
        choices=("both", "kit", "baseline", "none"),
        default="both",
        help="whose push cost to measure (the baseline's pushes move about 1.5 GB)",
    )
    parser.add_argument("--out", type=Path, default=None, help="default: build/bench/")
    parser.add_argument("--asset-image", default=None, help="default: <project>-assets at its content tag")
    parser.add_argument(
        "--tag-prefix", default=sides.TAG_PREFIX, help="repository prefix of the bench's images"
    )
    parser.add_argument(
        "--quantize",
        action="store_true",
        help="add the kit with its int8 model (INFERENCE_PRECISION=int8), with its accuracy against fp32",
    )
    parser.add_argument(
        "--int8-asset-image",
        default=None,
        help="with --quantize: an asset image holding the int8 export (default: one made from the "
        "int8 export in the cache root, `INFERENCE_PRECISION=int8 nox -s prepare`)",
    )
    parser.add_argument(
        "--no-snapstart",
        action="store_true",
        help="leave out the SnapStart rows (restores from a CRIU checkpoint, where the engine can make one)",
    )
    return parser


def cli(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    if args.int8_asset_image and not args.quantize:
        raise ConfigError("--int8-asset-image needs --quantize.")
    if args.cold_starts < 1 or args.invokes < 1:
        raise ConfigError("--cold-starts and --invokes must be at least 1.")
    project = config.load()
    tpl = template.load(project=project)
    limits = tpl.target
    emulation.require_native(limits.architecture, "make the kit's figures QEMU's")
    if args.memory is not None:
        limits = limits.with_memory(args.memory)
    console = Console(width=None if sys.stdout.isatty() else 160)  # seven columns with --quantize
    out = args.out or build_dir() / "bench"
    outcome = run_bench(
        project,
        tpl,
        limits,
        args.cold_starts,
        args.invokes,
        args.push,
        args.tag_prefix,
        args.asset_image,
        args.quantize,
        args.int8_asset_image,
        snapstart=not args.no_snapstart,
    )
    report.write_results(outcome, out)
    report.print_table(outcome, console)
    console.print(f"wrote {out / 'results.json'} and {out / 'results.md'}")
    return 0
