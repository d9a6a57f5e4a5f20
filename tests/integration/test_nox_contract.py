"""`nox -s dev` on a repository whose function is not the demo: the kit's noxfile, a fixture function.

The copy holds only what the contract asks of a user (docs/own-pipeline.md): their package in src/, its
handler and build-time hook named in [tool.lambdakit], its events, a Pipfile/Pipfile.lock (empty [packages]
here, so no pip download). HOME is a fresh folder that must stay empty.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "tinyfn"
PYPROJECT = """[project]
name = "tinyfn"
version = "0.1.0"

[tool.lambdakit]
project = "tinyfn"
handler = "tinyfn.handler.lambda_handler"
prepare = ["python", "-m", "tinyfn.prepare"]
"""
PIPFILE = '[[source]]\nurl = "https://pypi.org/simple"\nverify_ssl = true\nname = "pypi"\n\n[packages]\n'
LOCK = {
    "_meta": {"sources": [{"name": "pypi", "url": "https://pypi.org/simple"}]},
    "default": {},
    "develop": {},
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("adopted")
    shutil.copy2(REPO / "noxfile.py", repo / "noxfile.py")
    shutil.copytree(
        REPO / "src" / "lambdakit", repo / "src" / "lambdakit", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(
        FIXTURE / "src" / "tinyfn", repo / "src" / "tinyfn", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(FIXTURE / "events", repo / "events")
    (repo / "pyproject.toml").write_text(PYPROJECT)
    (repo / "Pipfile").write_text(PIPFILE)
    (repo / "Pipfile.lock").write_text(json.dumps(LOCK))
    return repo


# What nox itself keeps under HOME (its interpreter discovery), and this machine's rustup shim that the
# discovery may run: tools of the workstation, not the function or its libraries.
TOOL_STATE = (".cache/nox", ".rustup")


def written_by_the_session(home: Path) -> list[str]:
    files = [p.relative_to(home).as_posix() for p in home.rglob("*") if p.is_file()]
    return [f for f in files if not f.startswith(TOOL_STATE)]


def nox(project: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    env = {k: v for k, v in env.items() if not k.startswith(("XDG_", "HF_", "NLTK", "TORCH", "GENSIM"))}
    env |= {"HOME": str(home), "NO_COLOR": "1", "HF_TOKEN": "hf_test"}  # the hook needs a token
    return subprocess.run(
        [sys.executable, "-m", "nox", "--no-color", "-s", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def test_dev_runs_any_functions_events_online_and_writes_nothing_into_home(
    project: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    result = nox(project, home, "dev")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "# events/one.json: ok" in output and "# events/three.json: ok" in output
    assert "Session prepare was successful" in output  # the hook ran first, in its own environment
    assert (project / ".cache" / "tinyfn" / "vocab.txt").is_file()
    # the ENV block's folders existed before the handler ran: its nltk-style load went to the cache root
    assert (project / ".cache" / "nltk_data" / "tinyfn" / "model.txt").is_file()
    folders = {p.name for p in (project / ".cache").iterdir()}
    assert folders >= {"gensim-data", "huggingface", "nltk_data", "torch"}
    assert written_by_the_session(home) == [], "nothing may land in the real HOME during a nox session"
    assert '"hf_hub_offline": null' in output, "online by default: no silent HF_HUB_OFFLINE"


def test_dev_offline_sets_the_libraries_offline_switches(project: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    result = nox(project, home, "dev", "--", "--offline", "events/one.json")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert '"hf_hub_offline": "1"' in result.stdout + result.stderr


def test_nox_lists_the_sessions_without_the_demo(project: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "nox", "--list"], cwd=project, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "dev" in result.stdout and "snapshot" in result.stdout
