"""`base-image`: its defaults are the project's runtime, read once at the command's entry."""

from __future__ import annotations

import pytest

from lambdakit import cli
from lambdakit.core import config


def test_the_default_tag_is_the_stand_in_of_the_projects_runtime(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli.main(["base-image", "--help"])
    assert stopped.value.code == 0
    help_text = "".join(capsys.readouterr().out.split())  # argparse wraps the tag at its hyphen
    assert f"(default:{config.load().runtime.stand_in_tag()}[-arm64])" in help_text
