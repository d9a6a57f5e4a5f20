"""`[tool.lambdakit]`: the project's contract with the kit, read once into a frozen dataclass."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambdakit.core import config
from lambdakit.core.errors import ConfigError
from lambdakit.core.settings import REPO_ROOT
from tests import brokenfiles as broken


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
        ('assets = "src/app/model.onnx"', "list of paths or globs under src/"),
        ('assets = ["app/model.onnx"]', "list of paths or globs under src/"),
        ('assets = ["src/../secrets.txt"]', "list of paths or globs under src/"),
        ('assets = ["src"]', "list of paths or globs under src/"),
    ],
)
def test_a_bad_value_is_refused_with_its_fix(tmp_path: Path, line: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config.load(write(tmp_path, line))


def test_assets_name_committed_files_under_src_by_path_or_glob(tmp_path: Path) -> None:
    repo = write(tmp_path, 'assets = ["src/app/model.onnx", "src/app/extra/*.bin"]')
    project = config.load(repo)
    assert project.assets == ("src/app/model.onnx", "src/app/extra/*.bin")
    (tmp_path / "src" / "app" / "extra").mkdir(parents=True)
    for name in ("model.onnx", "extra/a.bin", "extra/b.bin", "extra/c.txt"):
        (tmp_path / "src" / "app" / name).write_bytes(b"x")
    assert config.code_asset_files(project, tmp_path / "src") == [
        "app/extra/a.bin",
        "app/extra/b.bin",
        "app/model.onnx",
    ]
    assert config.code_asset_image_path("app/model.onnx") == "code-assets/app/model.onnx"
    assert config.ProjectConfig().assets == ()  # by default every committed file ships with the code


def test_an_assets_entry_that_matches_nothing_is_refused(tmp_path: Path) -> None:
    project = config.load(write(tmp_path, 'assets = ["src/app/modle.onnx"]'))
    (tmp_path / "src" / "app").mkdir(parents=True)
    with pytest.raises(ConfigError, match=r"'src/app/modle\.onnx', which matches no file"):
        config.code_asset_files(project, tmp_path / "src")


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


# --- broken files: one line naming the file and the key, never a traceback (issue 22) ----------------------

PYPROJECT = {"tool": {"lambdakit": {"project": "x", "handler": "app.main.handle", "python": "3.13"}}}
KNOWN_KEYS: list[tuple[tuple[str, ...], type]] = [
    (("tool",), dict),
    (("tool", "lambdakit"), dict),
    (("tool", "lambdakit", "project"), str),
    (("tool", "lambdakit", "handler"), str),
    (("tool", "lambdakit", "prepare"), list),
    (("tool", "lambdakit", "python"), str),
]


def load_fresh(repo: Path) -> config.ProjectConfig:
    config.load.cache_clear()  # hypothesis reuses the folder: the cached answer would hide the new file
    return config.load(repo)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tool = 3\n", r"pyproject.toml: tool must be a table, not 3 \(an integer\)"),
        ("[tool]\nlambdakit = 3\n", r"pyproject.toml: tool.lambdakit must be a table, not 3"),
        ('[tool.lambdakit]\nhandler = "os.system"\n', r"handler = 'os.system' names a function of 'os'"),
        ('[tool.lambdakit]\nhandler = "lambdakit.cli.main"\n', r"names a function of 'lambdakit'"),
        ("[tool.lambdakit]\npython = 3.13\n", r"python = 3.13 \(a number\) must be a string"),
    ],
)
def test_a_wrong_type_names_the_file_the_key_and_the_fix(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(text)
    with pytest.raises(ConfigError, match=message) as caught:
        load_fresh(tmp_path)
    assert len(str(caught.value).splitlines()) == 1


def test_a_non_utf8_pyproject_points_at_the_byte(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_bytes(b'[project]\nname = "caf\xe9"\n')
    with pytest.raises(ConfigError, match=r"pyproject.toml is not UTF-8 text \(byte 0xe9 at offset 21\)"):
        load_fresh(tmp_path)


@broken.examples(60)
@given(data=st.data())
def test_any_wrong_type_at_a_known_key_is_one_line(tmp_path: Path, data: st.DataObject) -> None:
    key, expected = data.draw(st.sampled_from(KNOWN_KEYS))
    document = broken.with_value(PYPROJECT, key, data.draw(broken.wrong(expected)))
    (tmp_path / "pyproject.toml").write_bytes(broken.toml_document(document))
    assert broken.one_line(lambda: load_fresh(tmp_path), "pyproject.toml") is not None


@broken.examples(40)
@given(raw=broken.broken_bytes((REPO_ROOT / "pyproject.toml").read_bytes(), lambda n: b"x = " + b"[" * n))
def test_any_broken_pyproject_is_one_line_or_still_valid(tmp_path: Path, raw: bytes) -> None:
    (tmp_path / "pyproject.toml").write_bytes(raw)
    broken.one_line(lambda: load_fresh(tmp_path), "pyproject.toml")


def test_the_prepare_hook_may_name_its_own_python_and_defaults_to_the_runtimes() -> None:
    assert config.parse({"python": "3.13"}).hook_python == "3.13"
    hooked = config.parse({"python": "3.13", "prepare-python": "3.11"})
    assert (hooked.python, hooked.prepare_python, hooked.hook_python) == ("3.13", "3.11", "3.11")
    with pytest.raises(
        ConfigError, match=r'prepare-python = 3.11 must be a Python version string such as "3.11"'
    ):
        config.parse({"prepare-python": 3.11})
