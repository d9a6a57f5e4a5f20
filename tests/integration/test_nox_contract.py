"""`nox -s dev` on a repository whose function is not the demo: the kit's noxfile, a fixture function.

The copy holds only what the contract asks of a user (docs/own-pipeline.md): their package in src/, its
handler and build-time hook named in [tool.lambdakit], its events, a Pipfile/Pipfile.lock (empty [packages]
here, so no download but pip's), and the kit's tools/Pipfile(.lock), cut down to pip so that the shared tools
environment is quick to make. HOME is a fresh folder that must stay empty.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lambdakit.core import config, lock, venvs

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
SOURCES = [{"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": True}]
TOOLS_PIPFILE = PIPFILE + 'pip = "==VERSION"\n'
DOCKER_SIDE = ("snapshot", "assets", "build", "local", "rehearse", "base-image")


def write_locked(folder: Path, pipfile: str, default: dict[str, object]) -> None:
    """A Pipfile and the lock `pipenv lock` would write for it (its hash recorded)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Pipfile").write_text(pipfile)
    digest = lock.pipfile_hash(folder / "Pipfile")
    document = {"_meta": {"hash": {"sha256": digest}, "sources": SOURCES}, "default": default, "develop": {}}
    (folder / "Pipfile.lock").write_text(json.dumps(document))


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
    write_locked(repo, PIPFILE, {})
    pip = json.loads((lock.KIT_TOOLS / "Pipfile.lock").read_text())["default"]["pip"]  # the real pin
    write_locked(repo / "tools", TOOLS_PIPFILE.replace("VERSION", pip["version"][2:]), {"pip": pip})
    return repo


# What nox itself keeps under HOME (its interpreter discovery), pip's wheel cache (the environments' installs)
# and this machine's rustup shim that the discovery may run: tools of the workstation, not the function's.
TOOL_STATE = (".cache/nox", ".cache/pip", ".rustup")


def written_by_the_session(home: Path) -> list[str]:
    files = [p.relative_to(home).as_posix() for p in home.rglob("*") if p.is_file()]
    return [f for f in files if not f.startswith(TOOL_STATE)]


def nox(project: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    env = {k: v for k, v in env.items() if not k.startswith(("XDG_", "HF_", "NLTK", "TORCH", "GENSIM"))}
    env = {k: v for k, v in env.items() if k not in {venvs.FUNCTION_PYTHON_ENV, venvs.PREPARE_PYTHON_ENV}}
    env |= {"HOME": str(home), "NO_COLOR": "1", "HF_TOKEN": "hf_test"}  # the hook needs a token
    return subprocess.run(
        [sys.executable, "-m", "nox", "--no-color", *args],
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
    result = nox(project, home, "-s", "dev")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "# events/one.json: ok" in output and "# events/three.json: ok" in output
    assert "Session prepare was successful" in output  # the hook ran first, in its own environment
    assert "-m pip install --disable-pip-version-check --quiet -r" in output  # a current pip came first
    assert venvs.is_venv_of(project / ".nox" / "function-env", config.load(project).python)
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
    result = nox(project, home, "-s", "dev", "--", "--offline", "events/one.json")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert '"hf_hub_offline": "1"' in result.stdout + result.stderr


def test_nox_lists_the_sessions_without_the_demo(project: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "nox", "--list"], cwd=project, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "dev" in result.stdout and "snapshot" in result.stdout


def test_docker_side_sessions_share_one_tools_environment(project: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    # WHEN two Docker-side sessions get ready (--install-only: their environment, not their step)
    result = nox(project, home, "--install-only", "-s", "assets", "build")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    # THEN the first made the tools environment and the second reused it: one venv, no second pip
    assert output.count(" -m venv --clear ") <= 1, output[-3000:]
    assert output.count("tools-env/bin/python -m pip install") <= 2, output[-3000:]  # pip, then the lock
    made = {p.name for p in (project / ".nox").iterdir() if p.is_dir() and not p.name.startswith(".")}
    assert "tools-env" in made and not made & set(DOCKER_SIDE), made
    # AND a Pipfile edited after its lock stops every session with the command that fixes it
    pipfile = project / "tools" / "Pipfile"
    edited = pipfile.read_text()
    pipfile.write_text(edited + 'rich = "*"\n')
    try:
        stale = nox(project, home, "-s", "build")
    finally:
        pipfile.write_text(edited)
    assert stale.returncode != 0
    assert "run `PIPENV_PIPFILE=tools/Pipfile pipenv lock`" in stale.stdout + stale.stderr
