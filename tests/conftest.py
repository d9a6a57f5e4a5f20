"""Shared test set-up: the Docker gate and the prepared model.

Tests marked `docker` need a reachable engine. Without one they skip with the reason, except under
LAMBDAKIT_REQUIRE_DOCKER=1 (set by .ci/run), where they fail: CI must never pass by skipping them.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

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
    """The prepared default model (`nox -s prepare`); its absence is a failure, not a skip."""
    from inference import paths
    from inference.prepare import is_prepared

    directory = paths.model_dir()
    if not is_prepared(directory):
        pytest.fail(f"the default model is not prepared in {directory}: run `nox -s prepare` first")
    return directory


@pytest.fixture(scope="session")
def sample_events() -> dict[str, Path]:
    return {path.stem: path for path in sorted(EVENTS.glob("*.json"))}
