"""Pipfile.lock → pip requirements: what every nox session installs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambdakit.core.errors import ConfigError
from lambdakit.core.lock import locked_constraints, locked_groups, locked_requirements, pipfile_requirements

LOCK = {
    "_meta": {},
    "default": {
        "numpy": {
            "version": "==1.26.4",
            "hashes": ["sha256:aa", "sha256:bb"],
            "markers": "python_version >= '3.9'",
        }
    },
    "develop": {"moto": {"version": "==5.2.5", "extras": ["server"], "hashes": ["sha256:cc"]}},
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "Pipfile.lock").write_text(json.dumps(LOCK))
    (tmp_path / "Pipfile").write_text('[prepare-packages]\ntorch = "==2.13.0"\nonnx = "*"\n')
    return tmp_path


def test_requirements_carry_version_markers_and_hashes(repo: Path) -> None:
    assert locked_requirements(("packages",), repo) == [
        "numpy==1.26.4 ; python_version >= '3.9' --hash=sha256:aa --hash=sha256:bb"
    ]
    assert locked_requirements(("dev-packages",), repo) == ["moto[server]==5.2.5 --hash=sha256:cc"]


def test_constraints_drop_extras_and_hashes_which_pip_refuses(repo: Path) -> None:
    assert locked_constraints(("packages", "dev-packages"), repo) == [
        "numpy==1.26.4 ; python_version >= '3.9'",
        "moto==5.2.5",
    ]


def test_unlocked_category_is_read_from_the_pipfile(repo: Path) -> None:
    assert pipfile_requirements("prepare-packages", repo) == ["torch==2.13.0", "onnx"]


def test_missing_lock_or_section_names_the_fix(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="pipenv lock"):
        locked_requirements(("build-packages",), repo)
    with pytest.raises(ConfigError, match="pipenv lock"):
        locked_requirements(("packages",), tmp_path / "nowhere")


def test_the_real_lock_keeps_the_kits_tooling_out_of_the_image() -> None:
    names = {line.split("==")[0] for line in locked_requirements(("packages",), hashes=False)}
    assert not names & {"pytest", "boto3", "nox", "docker", "aws-sam-cli", "moto", "ruff", "mypy"}


def test_packages_go_to_the_index_the_lock_binds_and_pypi_to_pips_own(tmp_path: Path) -> None:
    sources = [
        {"name": "corp", "url": "https://pypi.corp.example/simple"},
        {"name": "pypi", "url": "https://pypi.org/simple/"},
        {"name": "pytorch-cpu", "url": "https://download.pytorch.org/whl/cpu"},
    ]
    lock = {
        "_meta": {"sources": sources},
        "default": {
            "internal": {"version": "==1.0"},  # no binding: the Pipfile's first source
            "numpy": {"version": "==2.0", "index": "pypi"},
            "torch": {"version": "==2.5.1", "index": "pytorch-cpu"},
        },
    }
    (tmp_path / "Pipfile.lock").write_text(json.dumps(lock))
    assert locked_groups(("packages",), tmp_path, hashes=False) == [
        (None, ["numpy==2.0"]),
        ("https://pypi.corp.example/simple", ["internal==1.0"]),
        ("https://download.pytorch.org/whl/cpu", ["torch==2.5.1"]),
    ]
