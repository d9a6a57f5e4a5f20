"""Every name the kit gives is the project's: several checkouts share one Docker engine and one account."""

from __future__ import annotations

import itertools
from pathlib import Path

from lambdakit.aws import config as aws_config
from lambdakit.aws import stack
from lambdakit.config import template
from lambdakit.core import config
from lambdakit.core import config as project_config

REPO = Path(__file__).resolve().parents[3]


def test_the_stack_follows_the_project_unless_samconfig_names_one(tmp_path: Path) -> None:
    project = config.load()
    loaded = aws_config.load(project, None, REPO / "samconfig.toml")
    assert loaded.stack_name == project.project  # samconfig.toml names no stack: the project does
    assert (loaded.project.assets_repository, loaded.project.function_repository) == (
        f"{project.project}-assets",
        f"{project.project}-function",
    )
    pinned = tmp_path / "samconfig.toml"
    pinned.write_text('version = 0.1\n[default.deploy.parameters]\nstack_name = "legacy"\n')
    assert aws_config.load(project, None, pinned).stack_name == "legacy"


def test_sam_deploy_takes_stack_prefix_and_tags_from_the_project(tmp_path: Path) -> None:
    settings = aws_config.AwsConfig(
        stack_name="sentiment", region="eu-west-1", project=config.ProjectConfig(project="sentiment")
    )
    argv = stack.sam_deploy_argv(
        "sam", settings, tmp_path / "t.yaml", "eu-west-1", "123.dkr/sentiment-function"
    )
    options = dict(itertools.pairwise(argv))
    assert options["--stack-name"] == "sentiment" and options["--s3-prefix"] == "sentiment"
    assert options["--tags"] == "project=sentiment managed-by=lambda-ml-kit"


def test_local_images_carry_the_project() -> None:
    project = config.load().project
    assert config.load().assets_repository == f"{project}-assets"
    assert template.load(project=project_config.load()).image.local_image == f"inferencefunction:{project}"
