"""`[tool.lambdakit]`: the project's contract with the kit, read once into a frozen dataclass."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdakit.core import config
from lambdakit.core.errors import ConfigError
from lambdakit.core.settings import REPO_ROOT


def write(tmp_path: Path, table: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(f"[project]\nname = 'x'\n\n[tool.lambdakit]\n{table}\n")
    return tmp_path


def test_defaults_hold_for_a_project_without_the_table(tmp_path: Path) -> None:
    assert config.load(tmp_path) == config.ProjectConfig()
    project = config.ProjectConfig()
    assert (project.handler_module, project.handler_function) == ("inference.handler", "lambda_handler")
    assert project.prepare == ()


def test_a_table_names_the_project_handler_and_prepare_hook(tmp_path: Path) -> None:
    repo = write(tmp_path, 'project = "sentiment"\nhandler = "app.main.handle"\nprepare = ["make", "model"]')
    project = config.load(repo)
    assert project == config.ProjectConfig("sentiment", "app.main.handle", ("make", "model"))
    assert (project.handler_package, project.handler_module, project.handler_function) == (
        "app",
        "app.main",
        "handle",
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('project = "My_Project"', "lowercase letters"),
        ('project = "-x"', "lowercase letters"),
        ("project = 3", "lowercase letters"),
        ('handler = "lambda_handler"', "module.function"),
        ('handler = "inference.handler.lambda-handler"', "module.function"),
        ('prepare = "python -m x"', "list of strings"),
        ("prepare = []", "delete the key"),
        ('handlr = "a.b"', "unknown key.*handlr"),
    ],
)
def test_a_bad_value_is_refused_with_its_fix(tmp_path: Path, line: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config.load(write(tmp_path, line))


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.lambdakit\n")
    with pytest.raises(ConfigError, match=r"pyproject.toml is not valid TOML"):
        config.load(tmp_path)


def test_this_repositorys_table_is_valid_and_names_a_handler_under_src() -> None:
    project = config.load()
    module = REPO_ROOT / "src" / project.handler_module.replace(".", "/")
    assert module.with_suffix(".py").is_file() or (module / "__init__.py").is_file()


def test_snapstart_is_a_boolean_switch_off_by_default(tmp_path: Path) -> None:
    assert config.ProjectConfig().snapstart is False
    (tmp_path / "on").mkdir(), (tmp_path / "bad").mkdir()
    assert config.load(write(tmp_path / "on", "snapstart = true")).snapstart is True
    with pytest.raises(ConfigError, match=r"snapstart = 'yes' must be true or false"):
        config.load(write(tmp_path / "bad", 'snapstart = "yes"'))
