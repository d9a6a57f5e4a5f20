"""`python -m lambdakit base-image` (`nox -s base-image`): the stand-in Lambda Python base, built offline.

How it is built: images/baseimage.py.
"""

from __future__ import annotations

import argparse

from lambdakit.config import template
from lambdakit.config.target import ARCHITECTURES
from lambdakit.core import config, runtimes
from lambdakit.core.settings import BASE_IMAGE_ENV
from lambdakit.images import baseimage


def cli(argv: list[str]) -> int:
    project = config.load()
    parser = argparse.ArgumentParser(
        prog="python -m lambdakit base-image", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--tag", default=None, help=f"image tag (default: {baseimage.stand_in_tag(project.python)}[-arm64])"
    )
    parser.add_argument(
        "--architecture", choices=sorted(ARCHITECTURES), default=None, help="default: template.yaml's"
    )
    parser.add_argument(
        "--python", choices=sorted(runtimes.DEBIAN_SUITE), default=None, help="default: the project's"
    )
    parser.add_argument("--rebuild", action="store_true", help="build even when the tag exists")
    args = parser.parse_args(argv)
    architecture = args.architecture or template.load(project=project).target.architecture
    tag = baseimage.build(args.python or project.python, architecture, args.tag, rebuild=args.rebuild)
    print(f"{BASE_IMAGE_ENV}={tag}")
    return 0
