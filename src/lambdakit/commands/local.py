"""`python -m lambdakit local` (`nox -s local`): run the function image locally, over the sample events.

The command: its arguments, then `sam local invoke` per event, or with `--faithful` the project's settings and
template.yaml loaded once and the image run the way Lambda runs it (`lambdakit.runtime.local`); `--snapstart`
adds the same environment restored from a CRIU checkpoint (`lambdakit.runtime.restore`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lambdakit.config import template
from lambdakit.core import config
from lambdakit.runtime import local


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lambdakit local", description=__doc__.splitlines()[0])
    parser.add_argument("events", nargs="*", help="event files (default: every events/*.json)")
    parser.add_argument(
        "--faithful", action="store_true", help="run with Lambda's limits instead of sam local"
    )
    parser.add_argument(
        "--snapstart",
        action="store_true",
        help="also restore the initialised function from a CRIU checkpoint; answers must match --faithful",
    )
    parser.add_argument("--image", default=None, help="image to run (default: the one `nox -s build` tags)")
    parser.add_argument(
        "--template", type=Path, default=template.TEMPLATE, help="SAM template with the limits"
    )
    return parser


def cli(argv: list[str]) -> int:
    args, extra = parser().parse_known_args(argv)
    events, broken = local.runnable_events(local.sample_events(args.events))
    if not events:
        return 1
    if not (args.faithful or args.snapstart):
        return max(local.run_sam_local(events, args.template, extra), int(broken > 0))
    project = config.load(args.template.parent)  # the project the template belongs to
    tpl = template.load(args.template, project=project)
    limits = local.faithful_limits(tpl.target)
    image = args.image or tpl.image.local_image
    if args.snapstart:
        return max(local.run_snapstart(image, limits, events, project.container_prefix), int(broken > 0))
    results, stats = local.run_faithful(image, limits, events, project.container_prefix)
    local.print_summary(results, stats, limits)
    return 1 if local.failed(results) or broken else 0
