"""The Dev Container's Python follows `[tool.lambdakit] python`: one build argument, checked against it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lambdakit.core import config, devcontainer
from lambdakit.core.errors import ConfigError
from lambdakit.core.settings import REPO_ROOT


def project(tmp_path: Path, python: str, devcontainer_json: str | None = None) -> Path:
    """A project folder with pyproject's python and the kit's .devcontainer (its json replaced if given)."""
    folder = tmp_path / f"project-{python}"
    folder.mkdir()
    (folder / "pyproject.toml").write_text(f'[tool.lambdakit]\npython = "{python}"\n', encoding="utf-8")
    shutil.copytree(REPO_ROOT / ".devcontainer", folder / ".devcontainer")
    if devcontainer_json is not None:
        (folder / devcontainer.DEVCONTAINER_JSON).write_text(devcontainer_json, encoding="utf-8")
    return folder


def test_the_kits_own_dev_container_runs_the_projects_python() -> None:
    python = config.load(REPO_ROOT).python
    assert devcontainer.check(python, REPO_ROOT) == devcontainer.python_version(REPO_ROOT, python) == python


def test_a_mismatch_is_refused_naming_both_files_and_the_fix(tmp_path: Path) -> None:
    shipped = devcontainer.python_version(REPO_ROOT, "3.13")
    other = "3.12" if shipped != "3.12" else "3.14"
    with pytest.raises(ConfigError) as refused:
        devcontainer.check(other, project(tmp_path, other))
    message = str(refused.value)
    assert "\n" not in message
    assert f"Python {shipped} but pyproject.toml's [tool.lambdakit] python is {other}" in message
    assert f'set "PYTHON_VERSION": "{other}" in .devcontainer/devcontainer.json' in message


def test_comments_trailing_commas_and_slashes_in_strings_are_read_as_the_cli_reads_them() -> None:
    text = """// head
    {
      /* block, with "quotes" */
      "build": {"args": {
        "PYTHON_VERSION": "3.14", // the one place
        "URL": "https://example.com/a//b", "Q": "say \\"hi\\" // not a comment",
      },},
    }"""
    assert devcontainer.read_jsonc(text) == {
        "build": {
            "args": {
                "PYTHON_VERSION": "3.14",
                "URL": "https://example.com/a//b",
                "Q": 'say "hi" // not a comment',
            }
        }
    }


def test_a_dev_container_without_the_argument_is_refused(tmp_path: Path) -> None:
    folder = project(tmp_path, "3.13", '{"build": {"dockerfile": "Dockerfile", "args": {}}}')
    with pytest.raises(
        ConfigError, match=r'has no build\.args\.PYTHON_VERSION \(e\.g\. "PYTHON_VERSION": "3\.13"\)'
    ):
        devcontainer.check("3.13", folder)


def test_a_dockerfile_that_ignores_the_argument_is_refused(tmp_path: Path) -> None:
    folder = project(tmp_path, "3.13", '{"build": {"args": {"PYTHON_VERSION": "3.13"}}}')
    dockerfile = folder / devcontainer.DOCKERFILE
    text = dockerfile.read_text()
    dockerfile.write_text(text.replace("${PYTHON_VERSION}", "3.11"))
    with pytest.raises(ConfigError, match=r"does not build FROM an image named by \$\{PYTHON_VERSION\}"):
        devcontainer.check("3.13", folder)


def test_a_checkout_without_a_dev_container_passes(tmp_path: Path) -> None:
    folder = project(tmp_path, "3.12")
    shutil.rmtree(folder / ".devcontainer")
    assert devcontainer.check("3.12", folder) is None
