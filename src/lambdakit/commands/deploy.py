"""`nox -s deploy`: push the images to ECR and deploy the stack with `sam deploy`, no prompts.

The command: the project's settings, template.yaml (its architecture: which asset image assets.lock pins)
and samconfig.toml loaded once, then the deploy (`lambdakit.aws.deploy`), its report, and the pushed asset
image pinned in assets.lock (the command only: the rehearsal's registry never reaches the user's lock).
"""

from __future__ import annotations

import argparse

from lambdakit.aws import config as aws_config
from lambdakit.aws import deploy
from lambdakit.config import template
from lambdakit.core import config


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lambdakit deploy", description=__doc__.splitlines()[0])
    parser.add_argument(
        "sam_args", nargs=argparse.REMAINDER, help="passed on to `sam deploy` (e.g. --region X)"
    )
    return parser


def cli(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    project = config.load()
    architecture = template.load(project=project).target.architecture
    # No timeout: deploy ships the template `sam build` wrote and never waits on the function.
    aws = aws_config.load(project, None)
    report = deploy.deploy(aws, architecture, extra_args=[a for a in args.sam_args if a != "--"])
    deploy.print_report(report)
    deploy.lock_pushed_assets(report, project, architecture)
    return 0
