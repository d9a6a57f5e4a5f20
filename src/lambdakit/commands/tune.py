"""`python -m lambdakit tune` (`nox -s tune`): the local counterpart of AWS Lambda Power Tuning.

The command: its arguments, the project's settings and template.yaml loaded once, then the measuring and
the recommendations (`lambdakit.perf.tune`), build/tune/results.json, the plot, and with `--apply` the new
MemorySize and Timeout in template.yaml.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console

from lambdakit.config import template
from lambdakit.config.target import LAMBDA
from lambdakit.core import config
from lambdakit.core import events as events_reader
from lambdakit.core.errors import ConfigError
from lambdakit.core.settings import build_dir
from lambdakit.images import emulation, engine
from lambdakit.perf import tune
from lambdakit.perf.tune import DEFAULT_MEMORY, STRATEGIES


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lambdakit tune", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--memory",
        default=",".join(map(str, DEFAULT_MEMORY)),
        help="comma-separated MemorySize values in MB (default 512,1024,1769,3008)",
    )
    parser.add_argument("--invokes", type=int, default=100, help="warm invokes per size (default 100)")
    parser.add_argument("--cold-starts", type=int, default=3, help="fresh containers per size (default 3)")
    parser.add_argument(
        "--event",
        type=Path,
        default=None,
        help="event file (default events/single.json, else the first sample event)",
    )
    parser.add_argument("--image", default=None, help="function image (default: the one `nox -s build` tags)")
    parser.add_argument(
        "--safety", type=float, default=3.0, help="Timeout = p99 x this, at least the cold start"
    )
    parser.add_argument(
        "--balanced-weight", type=float, default=0.5, help="cost's weight in `balanced` (0-1)"
    )
    parser.add_argument("--strategy", choices=STRATEGIES, default="balanced", help="what --apply writes")
    parser.add_argument("--apply", action="store_true", help="write MemorySize/Timeout into template.yaml")
    parser.add_argument("--template", type=Path, default=template.TEMPLATE, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=None, help="default: build/tune/")
    return parser


def cli(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    sizes = memory_sizes(args.memory)
    if args.invokes < 1 or args.cold_starts < 1:
        raise ConfigError("--invokes and --cold-starts must be at least 1.")
    project = config.load(args.template.parent)  # the project the template belongs to
    tpl = template.load(args.template, project=project)
    limits = tpl.target
    emulation.require_native(limits.architecture, "tune MemorySize wrongly")
    image = args.image or tpl.image.local_image
    engine.require_image(image, "run `nox -s build` first (or pass --image)")
    event = events_reader.read(args.event or tune.default_event())
    console = Console()
    out = args.out or build_dir() / "tune"
    points = tune.measure_sizes(
        image,
        limits,
        sizes,
        event,
        args.invokes,
        args.cold_starts,
        project.base_image,
        project.container_prefix,
    )
    document = tune.results_document(
        points,
        limits.architecture,
        args.safety,
        args.balanced_weight,
        image,
        event,
        args.invokes,
        args.cold_starts,
        snapstart=limits.snapstart_on,
    )
    document["plot"] = str(tune.plot(points, limits.architecture, out / "tune.png"))
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(
        json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    tune.print_results(document, console)
    console.print(f"wrote {out / 'results.json'} and {document['plot']}")
    if args.apply:
        choice = document["recommendations"][args.strategy]
        changed = tune.apply(args.template, choice["memory_mb"], choice["timeout_s"])
        console.print(
            f"{args.template}: " + ("; ".join(changed) if changed else "already set, nothing to change")
        )
    return 0


def memory_sizes(text: str) -> list[int]:
    """--memory's comma-separated MB values, each in Lambda's range, sorted, once each."""
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(
            f"--memory takes comma-separated whole MB values such as 512,1024, got {text!r}."
        ) from None
    if not sizes:
        raise ConfigError("--memory needs at least one size.")
    for size in sizes:
        LAMBDA.check_range("MemorySize", size)
    return sorted(set(sizes))
