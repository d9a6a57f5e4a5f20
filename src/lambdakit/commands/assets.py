"""`python -m lambdakit assets` (`nox -s assets`): the FROM-scratch asset image of the model files.

The logic (and what the image is) lives in images/assets.py; publishing in images/pinned.py.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lambdakit.core import config
from lambdakit.images import assets
from lambdakit.snapshot import outputs


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lambdakit assets", description=__doc__.splitlines()[0])
    parser.add_argument("--tarball", type=Path, default=None, help="default: build/assets/assets.tar")
    parser.add_argument("--report", type=Path, default=None, help="default: report.json beside the tarball")
    parser.add_argument("--repository", default=None, help="default: <project>-assets")
    parser.add_argument(
        "--publish", action="store_true", help="push it under its content tag and pin it in assets.lock"
    )
    parser.add_argument(
        "--registry",
        default=None,
        metavar="HOST[/PREFIX]",
        help="with --publish: the registry (default: the account's ECR, through your AWS credentials)",
    )
    return parser


def account_ecr(repository: str) -> tuple[str, dict[str, str]]:
    """The account's ECR registry (region as deploy resolves it) and its credentials, the repository created
    as deploy does; no credentials: the one-line error deploy gives."""
    import boto3

    from lambdakit.aws import config as aws_config
    from lambdakit.aws import deploy, ecr

    session = boto3.Session(region_name=aws_config.region())
    deploy.caller_account(session)
    client = session.client("ecr")
    ecr.ensure_repository(client, repository)
    registry = ecr.login(client)
    return registry.host, registry.auth_config


def cli(argv: list[str]) -> int:
    args_parser = parser()
    args = args_parser.parse_args(argv)
    if args.registry and not args.publish:
        args_parser.error("--registry needs --publish")
    assets.stop_with_parent()
    tarball = args.tarball or assets.default_tarball()
    report = args.report or tarball.with_name(outputs.REPORT_NAME)
    if args.tarball is None and assets.none_recorded(report):
        print(
            f"nothing to build: the last snapshot found no file to ship ({report} says "
            f'"assets": "{outputs.NO_ASSETS}"); `nox -s build` builds the function without an asset image'
        )
        return 0
    project = config.load()
    image = assets.build(tarball, args.repository or project.assets_repository, report=report)
    print(f"asset image {image.ref} (also :{assets.LATEST}); layer {image.layer}")
    if args.publish:
        from lambdakit.config import template
        from lambdakit.images import pinned

        architecture = template.load(project=project).target.architecture
        registry, auth = (args.registry, None) if args.registry else account_ecr(image.repository)
        report_json = pinned.snapshot_report(tarball)
        entry, changed = pinned.publish(image, architecture, registry, auth, report_json)
        state = "updated: commit it" if changed else "unchanged"
        print(f"published {entry.reference}; assets.lock {state} ({architecture})")
    return 0
