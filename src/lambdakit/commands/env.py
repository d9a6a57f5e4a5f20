"""`python -m lambdakit env [--root PATH] [--offline]`: print the ENV block as shell assignments.

Standard library only: it runs on a bare interpreter (`export $(python -m lambdakit env --root .cache)`).
"""

from __future__ import annotations

import argparse
import shlex

from lambdakit.core.settings import IMAGE_CACHE_ROOT, kit_env


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m lambdakit env", description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=IMAGE_CACHE_ROOT, help="the cache root (default: /cache)")
    parser.add_argument("--offline", action="store_true", help="add the libraries' offline switches")
    args = parser.parse_args(argv)
    for name, value in kit_env(args.root, offline=args.offline).items():
        print(f"{name}={shlex.quote(value)}")
    return 0
