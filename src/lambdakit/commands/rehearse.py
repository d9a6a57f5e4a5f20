"""`nox -s rehearse`: the whole deploy story against the local stand-in, offline and free.

The command: the project's settings, template.yaml and samconfig.toml loaded once, then the rehearsal
(`lambdakit.aws.rehearse`): deploy, invoke, a code change, redeploy, invoke again, the stand-in stopped.
"""

from __future__ import annotations

import argparse

from lambdakit.aws import config as aws_config
from lambdakit.aws import rehearse
from lambdakit.config import template
from lambdakit.core import config


def parser() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(prog="python -m lambdakit rehearse", description=__doc__.splitlines()[0])


def cli(argv: list[str]) -> int:
    parser().parse_args(argv)
    project = config.load()
    tpl = template.load(project=project)
    rehearse.rehearse(aws_config.load(project, tpl), tpl)
    return 0
