"""The faithful run enforces the target's init limit (Lambda's 10 s for on-demand functions) and explains it.

The fixture (tests/fixtures/slow_init) sleeps at import, 11 s by default. To keep this test's cost low it is
built to sleep 2 s and run against a target whose init limit is 1 s: the limit is overridable through the
target's rules, which only tests do (template.yaml cannot change it).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdakit.config.target import LAMBDA, Target
from lambdakit.core import config as project_config
from lambdakit.images import baseimage, engine
from lambdakit.runtime import local

pytestmark = pytest.mark.docker

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "slow_init"
IMAGE = "lambdakit-test-target-slowinit:latest"
CONTAINERS = "lambdakit-test-slowinit-lambda"  # the container prefix a ProjectConfig would give
INIT_SECONDS = 2
ONE_VCPU = Target(memory_mb=LAMBDA.mb_per_vcpu, timeout_s=10, ephemeral_mb=512)


@pytest.fixture(scope="module")
def slow_init_image() -> Iterator[str]:
    base = baseimage.build(project_config.load().python)  # reused by tag: lambdakit/lambda-python:3.13
    engine.build(FIXTURE, IMAGE, buildargs={"BASE_IMAGE": base, "SLOW_INIT_SECONDS": str(INIT_SECONDS)})
    yield IMAGE
    engine.remove_image(IMAGE)


@pytest.fixture
def event(tmp_path: Path) -> list[Path]:
    path = tmp_path / "one.json"
    path.write_text(json.dumps({"text": "hi"}))
    return [path]


def test_an_init_past_the_limit_fails_the_faithful_run_with_the_fix(
    slow_init_image: str, event: list[Path]
) -> None:
    one_second = dataclasses.replace(ONE_VCPU, rules=dataclasses.replace(LAMBDA, init_limit_s=1.0))
    results, stats = local.run_faithful(slow_init_image, one_second, event, CONTAINERS)
    # the emulator has no init limit: the answer comes, but Lambda would have cut the init at 1 s
    assert results[0].outcome == "ok"
    assert stats["init_duration_ms"] >= INIT_SECONDS * 1000
    (note,) = [n for n in results[0].explanations if n.startswith("init too slow")]
    assert "over the 1 s init limit of an on-demand function" in note
    assert "runs it again inside the first invoke" in note and "SnapStart" in note
    assert local.failed(results)


def test_an_init_within_lambdas_limit_passes(slow_init_image: str, event: list[Path]) -> None:
    results, _ = local.run_faithful(slow_init_image, ONE_VCPU, event, CONTAINERS)
    assert results[0].outcome == "ok" and results[0].explanations == []
    assert not local.failed(results)
