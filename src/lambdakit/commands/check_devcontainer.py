"""`python -m lambdakit check-devcontainer`: the Dev Container's Python is the project's Lambda runtime.

Standard library only: the git hook may run it on any Python 3.11+ (core/devcontainer.py holds the check).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lambdakit.core import config, devcontainer
from lambdakit.core.settings import REPO_ROOT


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lambdakit check-devcontainer",
        description=__doc__.splitlines()[0],
    )
    parser.add_argument(
        "--repo", type=Path, default=REPO_ROOT, help="the project's folder (default: this one)"
    )
    args = parser.parse_args(argv)
    version = devcontainer.check(config.load(args.repo).python, args.repo)
    if version is not None:
        print(f"{devcontainer.DEVCONTAINER_JSON}: Python {version}, as [tool.lambdakit] python")
    return 0
