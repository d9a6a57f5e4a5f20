"""`check-devcontainer`: the project's python read from --repo's pyproject, a mismatch one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdakit import cli
from tests.unit.core.test_devcontainer import project


def test_the_cli_check_fails_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = project(tmp_path, "3.12", '{"build": {"args": {"PYTHON_VERSION": "3.14"}}}')
    assert cli.main(["check-devcontainer", "--repo", str(folder)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: .devcontainer/devcontainer.json builds the Dev Container on Python 3.14")
    assert len(err.splitlines()) == 1


def test_the_cli_reads_the_python_of_the_repo_it_is_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = project(tmp_path, "3.14", '{"build": {"args": {"PYTHON_VERSION": "3.14"}}}')
    assert cli.main(["check-devcontainer", "--repo", str(folder)]) == 0
    assert (
        capsys.readouterr().out
        == ".devcontainer/devcontainer.json: Python 3.14, as [tool.lambdakit] python\n"
    )
