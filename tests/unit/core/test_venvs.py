"""The shared environments: which interpreter makes them and when one is reused as it is."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lambdakit.core import venvs


def test_the_running_interpreter_serves_its_own_version() -> None:
    assert venvs.find_python(f"{sys.version_info.major}.{sys.version_info.minor}") == sys.executable


def test_a_missing_python_is_one_line_saying_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a PATH whose python3.9 is a shim that fails when run, as pyenv's does for an unselected version
    shim = tmp_path / "python3.9"
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.9: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(venvs.PythonMissing) as caught:
        venvs.find_python("3.9")
    message = str(caught.value)
    assert "\n" not in message
    assert all(
        way in message for way in ("pyenv install 3.9", "uv python install 3.9", "apt-get", "Dev Container")
    )


def test_a_venv_is_reused_only_for_its_python_and_requirements(tmp_path: Path) -> None:
    location = tmp_path / "env"
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(location)], check=True)
    assert venvs.is_venv_of(location, version)
    assert not venvs.is_venv_of(location, "3.9")
    assert not venvs.is_venv_of(tmp_path / "nothing", version)
    wanted = venvs.digest("pip==26.3 --hash=sha256:aa", "numpy==2.4.6 --hash=sha256:bb")
    assert not venvs.is_current(location, wanted)
    venvs.mark_current(location, wanted)
    assert venvs.is_current(location, wanted)
    assert not venvs.is_current(location, venvs.digest("pip==26.3 --hash=sha256:aa"))
