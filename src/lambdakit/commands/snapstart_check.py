"""`python -m lambdakit snapstart-check [EVENT]`: is the function ready for SnapStart? No CRIU needed.

The handler (`[tool.lambdakit] handler`) is initialised once, "snapshotted" and "restored" twice by
`os.fork()` (`lambdakit.runtime.snapstart`); each finding says what would break uniqueness or not survive a
restore on Lambda, and names the `snapshot_restore_py` hook that fixes it.

EVENT is a file, `-` or inline JSON (default: the first `events/*.json`). Exit status 0 when ready, 1 with
findings, 2 when the check cannot run (the handler fails to import, the harness dies). Standard library only,
and so is everything it imports: `nox -s snapstart` runs it in the function's own environment.
"""

from __future__ import annotations

import argparse
import json

from lambdakit.core import config
from lambdakit.runtime import dev, snapstart


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lambdakit snapstart-check", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "event", nargs="?", help="event file, '-' or inline JSON (default: the first events/*.json)"
    )
    parser.add_argument("--handler", default=None, help="module.function (default: [tool.lambdakit] handler)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser


def cli(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    handler = args.handler or config.load().handler
    source = args.event or dev.default_events()[0]
    report = snapstart.run_dev(handler, dev.read_event(source))
    if args.json:
        print(json.dumps({"findings": [vars(f) for f in report.findings], "info": report.info}, indent=2))
    else:
        print(snapstart.render(report, handler))
    return 0 if report.ready else 1
