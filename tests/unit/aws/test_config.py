"""samconfig.toml read once per command; the function's timeout from the template the command loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdakit.aws import config as aws_config
from lambdakit.config import template
from lambdakit.core import settings
from lambdakit.core.errors import ConfigError
from tests.unit.config.test_template import image_function, write

SAMCONFIG = """\
version = 0.1
[default.deploy.parameters]
stack_name = "triage-prod"
region = "eu-west-1"
"""


def samconfig(tmp_path: Path, text: str = SAMCONFIG) -> Path:
    path = tmp_path / "samconfig.toml"
    path.write_text(text)
    return path


def test_the_timeout_is_the_loaded_templates_and_the_file_is_not_read_again(tmp_path: Path) -> None:
    path = write(tmp_path, image_function("Timeout: 42"))
    tpl = template.load(path)
    path.write_text("not: [valid")  # a second read would now fail, or find the repo's template (30 s)

    config = aws_config.load(tpl, samconfig(tmp_path))

    assert config.function_timeout_s == 42
    assert (config.stack_name, config.region) == ("triage-prod", "eu-west-1")
    assert config.project == settings.project_name()


def test_without_a_template_the_timeout_is_unknown(tmp_path: Path) -> None:
    config = aws_config.load(None, samconfig(tmp_path, "version = 0.1\n"))
    assert config.function_timeout_s is None and config.region == ""


def test_a_missing_or_broken_samconfig_is_one_line_naming_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"samconfig.toml is missing; it holds the stack name and region"):
        aws_config.load(None, tmp_path / "samconfig.toml")
    with pytest.raises(ConfigError, match=r"is not valid TOML \(.*\); fix it and retry"):
        aws_config.load(None, samconfig(tmp_path, "[default\n"))
