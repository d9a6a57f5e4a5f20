"""Shared test set-up: the Docker gate and the demo's prepared model (found on disk, never imported).

Tests marked `docker` need a reachable engine. Without one they skip with the reason, except under
LAMBDAKIT_REQUIRE_DOCKER=1 (set by .ci/run), where they fail: CI must never pass by skipping them.
"""

from __future__ import annotations

import functools
import io
import json
import os
import sys
from pathlib import Path

import pytest

from lambdakit.core import venvs

REPO = Path(__file__).resolve().parents[1]
EVENTS = REPO / "events"


@functools.cache
def docker_unreachable_reason() -> str | None:
    try:
        import docker

        docker.from_env(timeout=5).ping()
    except Exception as exc:  # any failure to reach the engine means the same thing here
        return f"no Docker engine reachable ({type(exc).__name__}: {exc})"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("docker") is None:
        return
    reason = docker_unreachable_reason()
    if reason is None:
        return
    if os.environ.get("LAMBDAKIT_REQUIRE_DOCKER") == "1":
        pytest.fail(f"{reason}, and LAMBDAKIT_REQUIRE_DOCKER=1 forbids skipping Docker tests")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The demo's prepared model (`nox -s prepare`), which the image, bench and rehearsal tests ship as their
    assets. Found by its manifest under $HF_HOME/exports: the kit's tests never import the function.
    Its absence is a failure, not a skip; only a repository that adopted the kit for another function (no
    demo in src/inference) skips the tests that ship the demo."""
    if not (REPO / "src" / "inference" / "prepare.py").is_file():
        pytest.skip("src/inference is not the demo (an adopted project): this test ships the demo's model")
    exports = Path(os.environ.get("HF_HOME") or REPO / ".cache" / "huggingface") / "exports"
    for manifest in sorted(exports.glob("*/manifest.json")):
        if json.loads(manifest.read_text(encoding="utf-8")).get("precision", "fp32") == "fp32":
            return manifest.parent
    pytest.fail(f"the demo's model is not prepared under {exports}: run `nox -s prepare` first")


@pytest.fixture(scope="session")
def function_python() -> str:
    """The function environment's interpreter: the kit's tests (tools env) run the function there, since
    only it has the function's packages. `nox -s tests` names it; a one-venv loop falls back to this one."""
    return os.environ.get(venvs.FUNCTION_PYTHON_ENV, sys.executable)


@pytest.fixture(scope="session")
def prepare_python() -> str:
    """The prepare hook's environment's interpreter (torch, onnx): see `function_python`."""
    return os.environ.get(venvs.PREPARE_PYTHON_ENV, sys.executable)


@pytest.fixture(scope="session")
def sample_events() -> dict[str, Path]:
    return {path.stem: path for path in sorted(EVENTS.glob("*.json"))}


@pytest.fixture
def console_output(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """What the kit's progress bars print, as a log file (not a terminal) receives it."""
    from rich.console import Console

    from lambdakit import console

    output = io.StringIO()
    monkeypatch.setattr(console, "STDERR", Console(file=output, width=200))
    return output
