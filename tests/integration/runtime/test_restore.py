"""The local SnapStart restore (CRIU) on the kit's test function: the restored answers are the faithful run's,
the before-snapshot hook runs before the checkpoint and the after-restore hook after the restore.

Skipped, with the engine's reason, only where the engine cannot checkpoint (`restore.probe`: no
--experimental, Docker Desktop, another architecture, or a small process's checkpoint fails: no criu on the
engine's PATH, a criu that fails on the kernel). Anything past that probe fails these tests.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdakit.config.target import Target
from lambdakit.core import config as project_config
from lambdakit.core.errors import EmulatorFailed
from lambdakit.images import baseimage, engine
from lambdakit.perf.bench import restored
from lambdakit.perf.bench.sides import Contender
from lambdakit.runtime import local, restore
from lambdakit.runtime.environment import Function

pytestmark = pytest.mark.docker

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
TINYFN = FIXTURES / "tinyfn"
IMAGE = "lambdakit-test-snapstart-restore:latest"
NAME = "lambdakit-test-snapstart-restore"
LIMITS = Target(memory_mb=1024, timeout_s=10, ephemeral_mb=512)
# tinyfn and the SnapStart fixtures in the task root; its "model" where NLTK_DATA points (the root is
# read-only)
DOCKERFILE = """\
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY tinyfn /var/task/tinyfn
COPY snapstart /var/task/
COPY nltk_data /var/task/nltk_data
ENV NLTK_DATA=/var/task/nltk_data
CMD ["tinyfn.handler.lambda_handler"]
"""


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    context = tmp_path_factory.mktemp("restore-image")
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(TINYFN / "src" / "tinyfn", context / "tinyfn", ignore=ignore)
    shutil.copytree(FIXTURES / "snapstart", context / "snapstart", ignore=ignore)
    (context / "nltk_data" / "tinyfn").mkdir(parents=True)
    (context / "nltk_data" / "tinyfn" / "model.txt").write_text("words\n")
    (context / "Dockerfile").write_text(DOCKERFILE)
    base = baseimage.build(project_config.load().python)  # reused by tag: lambdakit/lambda-python:3.13
    engine.build(context, IMAGE, buildargs={"BASE_IMAGE": base})
    why = restore.probe(Function(IMAGE, LIMITS), NAME)
    if why is not None:
        engine.remove_image(IMAGE)
        pytest.skip(why)
    yield IMAGE
    engine.remove_image(IMAGE)


def test_restored_answers_are_the_faithful_runs(image: str) -> None:
    events = sorted((TINYFN / "events").glob("*.json"))
    faithful, _ = local.run_faithful(image, LIMITS, events, NAME)
    env, times = restore.start(Function(image, LIMITS), NAME)
    with env:
        restored = [env.invoke(event.read_bytes(), name=event.name) for event in events]
        log = env.logs()
    assert [r.body for r in restored] == [f.body for f in faithful]
    assert all(r.outcome == "ok" for r in restored)
    assert times.checkpoint_ms > 0 and times.restore_ms > 0 and times.init_ms is not None
    assert env.cold_start_ms is not None and env.cold_start_ms > 0  # restore started -> first answer
    assert restore.restore_duration_ms(log) is not None
    assert log.count("\tRestore Duration:") == 1  # only the first invoke after the restore carries it


def test_hooks_run_before_the_checkpoint_and_after_the_restore(image: str) -> None:
    env, _ = restore.start(Function(image, LIMITS, handler="restore_order.lambda_handler"), NAME)
    with env:
        first = env.invoke({}).payload
        second = env.invoke({}).payload
    (before,) = first["before_snapshot"]
    (after,) = first["after_restore"]
    # env.started: the wall clock just before `docker start --checkpoint` (the checkpoint came before it)
    assert first["init_at"] <= before < env.started <= after
    assert second["after_restore"] == [after]  # once per restore, not per invoke


def test_a_failing_before_snapshot_hook_is_one_line(image: str) -> None:
    function = Function(image, LIMITS, handler="failing_before_snapshot.lambda_handler")
    failure = r"before the snapshot.*BeforeSnapshotError.*pool already closed"
    with pytest.raises(EmulatorFailed, match=failure):
        restore.start(function, NAME)
    left = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"name={NAME}"], capture_output=True, text=True, check=True
    )
    assert left.stdout.strip() == ""  # both containers removed on the failure path


def test_the_bench_times_restore_to_first_answer_with_the_client_held_until_the_restore(image: str) -> None:
    # the client's plan waits for the start file written just before the restore: had it reached the port
    # before the checkpoint, its invoke would have released restore/next and been answered before it
    base = baseimage.build(project_config.load().python)
    side = Contender("kit", image, Path(), Path(), "", "", "", [], {}, base)
    (measured,) = restored.restored_starts([side], LIMITS, 1, side.base, {"text": "a b"}, NAME).values()
    (first_answer_ms,) = measured.runs
    (restore_ms,) = measured.restore_ms
    # the answer comes once the restore is done, not after a 1 s SYN retry (criu's network lock)
    assert restore_ms * 0.5 < first_answer_ms < restore_ms + 900
