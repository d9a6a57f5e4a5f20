"""samconfig.toml read once per command; the function's timeout from the template the command loaded."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambdakit.aws import config as aws_config
from lambdakit.config import template
from lambdakit.core import settings
from lambdakit.core.config import ProjectConfig
from lambdakit.core.errors import ConfigError
from tests import brokenfiles as broken
from tests.unit.config.test_template import image_function, write

PROJECT = ProjectConfig(project="triage")
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
    tpl = template.load(path, project=PROJECT)
    path.write_text("not: [valid")  # a second read would now fail, or find the repo's template (30 s)

    config = aws_config.load(PROJECT, tpl, samconfig(tmp_path))

    assert config.function_timeout_s == 42
    assert (config.stack_name, config.region) == ("triage-prod", "eu-west-1")
    assert config.project is PROJECT  # passed down, never read again


def test_without_a_template_the_timeout_is_unknown(tmp_path: Path) -> None:
    config = aws_config.load(PROJECT, None, samconfig(tmp_path, "version = 0.1\n"))
    assert config.function_timeout_s is None and config.region == ""
    assert config.stack_name == "triage"  # samconfig.toml names no stack: the project's


def test_the_region_alone_resolves_as_deploy_resolves_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    assert aws_config.region(samconfig(tmp_path)) == "eu-west-1"
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    assert aws_config.region(samconfig(tmp_path)) == "ap-south-1"


def test_a_missing_or_broken_samconfig_is_one_line_naming_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"samconfig.toml is missing; it holds the stack name and region"):
        aws_config.load(PROJECT, None, tmp_path / "samconfig.toml")
    with pytest.raises(ConfigError, match=r"is not valid TOML \(.*\); fix it and retry"):
        aws_config.load(PROJECT, None, samconfig(tmp_path, "[default\n"))


# --- broken files: one line naming the file and the key, never a traceback (issue 22) ----------------------

DEPLOY = {
    "version": 0.1,
    "default": {"deploy": {"parameters": {"stack_name": "triage", "region": "eu-west-1"}}},
}
PARAMETERS = ("default", "deploy", "parameters")
SAMCONFIG_KEYS: list[tuple[tuple[str, ...], type]] = [
    (("default",), dict),
    (("default", "deploy"), dict),
    (PARAMETERS, dict),
    ((*PARAMETERS, "stack_name"), str),
    ((*PARAMETERS, "region"), str),
]
RELAXED = broken.examples(50)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[default]\ndeploy = "x"\n',
            r"samconfig.toml: \[default.deploy\] must be a table, not 'x' \(a string\)",
        ),
        (
            "[default.deploy.parameters]\nregion = 5\n",
            r"samconfig.toml: region = 5 \(an integer\) is not an AWS region",
        ),
        ('[default.deploy.parameters]\nregion = "5"\n', r"region = '5' \(a string\) is not an AWS region"),
        ("[default.deploy.parameters]\nstack_name = 3\n", r"stack_name = 3 \(an integer\) cannot name a"),
        (b"version = 0.1 # caf\xe9\n", r"samconfig.toml is not UTF-8 text \(byte 0xe9 at offset 19\)"),
    ],
)
def test_a_wrong_type_is_refused_before_any_aws_call(tmp_path: Path, text: str | bytes, message: str) -> None:
    path = tmp_path / "samconfig.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(ConfigError, match=message) as caught:
        aws_config.load(PROJECT, None, path)
    assert "credentials" not in str(caught.value) and len(str(caught.value).splitlines()) == 1


def test_a_region_from_the_environment_of_the_wrong_shape_names_where_it_came_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_REGION", "eu west 1")
    with pytest.raises(ConfigError, match=r"AWS_REGION = 'eu west 1' \(a string\) is not an AWS region"):
        aws_config.load(PROJECT, None, samconfig(tmp_path)).resolve_region()


@RELAXED
@given(data=st.data())
def test_any_wrong_type_at_a_known_key_is_one_line(tmp_path: Path, data: st.DataObject) -> None:
    key, expected = data.draw(st.sampled_from(SAMCONFIG_KEYS))
    document = broken.with_value(DEPLOY, key, data.draw(broken.wrong(expected)))
    path = samconfig(tmp_path, broken.toml_document(document).decode())
    assert broken.one_line(lambda: aws_config.load(PROJECT, None, path), "samconfig.toml") is not None


@RELAXED
@given(
    raw=broken.broken_bytes(
        (settings.REPO_ROOT / "samconfig.toml").read_bytes(), lambda n: b"x = " + b"{a = " * n
    )
)
def test_any_broken_samconfig_is_one_line_or_still_valid(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "samconfig.toml"
    path.write_bytes(raw)
    broken.one_line(lambda: aws_config.load(PROJECT, None, path), "samconfig.toml")
