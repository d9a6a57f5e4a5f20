"""The local SnapStart restore: init the function once, checkpoint it with CRIU, restore it, answer events.

`nox -s local -- --snapstart` and bench run it. In the faithful run's layout (`lambdakit.runtime.environment`:
the client container's loopback, the target's limits, no capabilities), the function container's entrypoint is
the kit's Runtime API stand-in (`restore_emulator.py`, no local SnapStart Runtime API exists), which starts
the image's runtime at once with `AWS_LAMBDA_INITIALIZATION_TYPE=snap-start`, as Lambda does when a version is
published. Once the runtime waits in `restore/next` (init and before-snapshot hooks done) the container is
checkpointed (`docker checkpoint create`, criu dumps it and it stops), then restored (`docker start
--checkpoint`); the first invoke releases `restore/next`, so the after-restore hooks run before it is
answered.

    env, times = restore.start(function, name)
    with env:
        answer = env.invoke(event)      # env.cold_start_ms: restore started -> first answer

Deviation, said in one line (once per process) when it applies: criu dumps a process of another uid only
with CAP_SYS_RESOURCE in the engine's host namespace (to read its rlimits); an engine whose root lacks it (a
sandbox) cannot dump the faithful uid, and the function then runs as uid 0, still with no capabilities.
Docker Desktop and CI runners' engines have it. Engines that cannot checkpoint at all (no --experimental, no
criu, Docker Desktop, another architecture under QEMU) are refused in one line (`CheckpointUnavailable`).
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from importlib import resources
from typing import Any

from lambdakit.core.errors import CheckpointFailed, CheckpointUnavailable, EmulatorFailed
from lambdakit.images import emulation, engine
from lambdakit.runtime import emulator, restore_emulator
from lambdakit.runtime.environment import (
    CONTAINER_LABEL,
    LAMBDA_USER,
    ExecutionEnvironment,
    Function,
    function_options,
    start_client,
)

ROOT_USER = "0:0"
CHECKPOINT = "lambdakit-snapstart"
CANNOT_READ_RLIMITS = "rlimit"  # criu-dump.log: "Can't get rlimit 0: Operation not permitted"
POLL_S = 0.01
RESTORE_REPORT = re.compile(r"RESTORE REPORT\(durationMs: (?P<ms>[0-9.]+)\)")
# Engines (by address) seen unable to dump a process of another uid: probed once per process.
_ROOT_ONLY: set[str] = set()


@dataclass(frozen=True)
class RestoreTimes:
    """What the restore took: init before the snapshot, criu's dump and restore, as the engine answered."""

    init_ms: float | None
    checkpoint_ms: float
    restore_ms: float
    user: str


def refusal(function: Function) -> str | None:
    """Why the local restore cannot run here (one line, with the fix), or None."""
    if emulation.is_emulated(function.limits.architecture):
        return (
            f"the local SnapStart restore cannot run a {function.limits.architecture} function on this "
            f"{emulation.host_architecture()} engine (criu cannot checkpoint a process under QEMU); run it "
            f"on a {function.limits.architecture} engine, or `nox -s local -- --faithful` here"
        )
    return engine.checkpoint_refusal()


def probe(function: Function, name: str) -> str | None:
    """Why a checkpoint fails on this engine (one line), or None once a small process of FUNCTION's image was
    checkpointed: `refusal` from the engine's info, then a real `docker checkpoint` (criu missing from the
    engine's PATH, or failing on its kernel, shows only then). Tests skip with it; commands just fail."""
    why = refusal(function)
    if why is not None:
        return why
    options = {
        "image": function.image,
        "name": f"{name}-probe-{uuid.uuid4().hex[:6]}",
        "entrypoint": ["python3", "-c", "import time; time.sleep(600)"],
        "command": [],
        "user": ROOT_USER,  # the probe asks whether criu works at all, not the uid question of `start`
        "network_mode": "none",
        "cap_drop": ["ALL"],
        "labels": {CONTAINER_LABEL: "probe"},
    }
    container = engine.start_container(options)
    try:
        engine.checkpoint(container, CHECKPOINT)
    except CheckpointFailed as exc:
        return str(exc)
    finally:
        engine.remove_container(container)
    return None


def emulator_source() -> str:
    return resources.files("lambdakit.runtime").joinpath("restore_emulator.py").read_text(encoding="utf-8")


def runtime_argv(function: Function) -> list[str]:
    """The image's entrypoint and CMD (or the handler asked for): what the stand-in starts as the runtime."""
    config = engine.require_image(function.image, "run `nox -s build` first").attrs.get("Config") or {}
    entrypoint = list(config.get("Entrypoint") or [])
    command = [function.handler] if function.handler else list(config.get("Cmd") or [])
    if not entrypoint + command:
        raise EmulatorFailed(
            f"{function.image} has no ENTRYPOINT or CMD to start; build it from a Lambda base."
        )
    return entrypoint + command


def start(
    function: Function,
    name: str,
    say: Any = print,
    plan: dict[str, Any] | None = None,
    client_image: str | None = None,
) -> tuple[ExecutionEnvironment, RestoreTimes]:
    """A restored environment, ready for its first invoke; `CheckpointUnavailable` where it cannot be.

    PLAN (bench): the client runs it as its main process, held by its `start_file`, which is written just
    before the restore: its first answer then times restore -> first answer without a `docker exec`."""
    why = refusal(function)
    if why is not None:
        raise CheckpointUnavailable(why)
    address = engine.engine_address()
    if address in _ROOT_ONLY:
        return _start(function, name, ROOT_USER, plan, client_image)
    try:
        return _start(function, name, LAMBDA_USER, plan, client_image)
    except CheckpointFailed as exc:
        if CANNOT_READ_RLIMITS not in str(exc):
            raise
    _ROOT_ONLY.add(address)  # said once per process: every later restore on this engine runs as uid 0
    say(
        f"# deviation: this engine's criu cannot dump a process of uid {LAMBDA_USER.split(':')[0]} (its root "
        "lacks CAP_SYS_RESOURCE), so the restored function runs as uid 0 with no capabilities"
    )
    return _start(function, name, ROOT_USER, plan, client_image)


def _start(
    function: Function, name: str, user: str, plan: dict[str, Any] | None, client_image: str | None
) -> tuple[ExecutionEnvironment, RestoreTimes]:
    name = f"{name}-{uuid.uuid4().hex[:6]}"
    client, cpus = start_client(function, name, plan, client_image)
    container = None
    try:
        options = function_options(function, name, str(client.id), cpus) | {
            "entrypoint": ["python3", "-c", emulator_source()],
            "command": runtime_argv(function),
            "user": user,
        }
        container = engine.start_container(options)
        wait_for_snapshot_point(container, function.limits.rules.prepared_init_limit_s)
        init_ms = emulator.init_duration_ms(engine.container_logs(container))
        began = time.monotonic()
        engine.checkpoint(container, CHECKPOINT)
        checkpoint_ms = (time.monotonic() - began) * 1000
        if plan is not None and plan.get("start_file"):
            folder, file = str(plan["start_file"]).rsplit("/", 1)
            engine.put_file(client, folder, file, b"")
        started = time.time()
        began = time.monotonic()
        engine.restore(container, CHECKPOINT)
        restore_ms = (time.monotonic() - began) * 1000
    except BaseException:
        for each in (container, client):
            if each is not None:
                engine.remove_container(each)
        raise
    env = ExecutionEnvironment(function, client, container, started, cpus)
    return env, RestoreTimes(init_ms, checkpoint_ms, restore_ms, user)


def restore_duration_ms(log: str) -> float | None:
    """The after-restore hooks' time, from the stand-in's `RESTORE REPORT` line."""
    found = RESTORE_REPORT.search(log)
    return float(found["ms"]) if found else None


def wait_for_snapshot_point(container: Any, timeout_s: float) -> None:
    """Until the runtime waits in `restore/next`; the init's own error (or the exit) as one line."""
    deadline = time.monotonic() + timeout_s
    while True:
        log = engine.container_logs(container)
        if restore_emulator.SNAPSHOT_MARK in log:
            return
        failed = [line for line in log.splitlines() if line.startswith(restore_emulator.INIT_ERROR_MARK)]
        if failed or engine.container_state(container).get("Status") != "running":
            tail = failed[-1] if failed else " | ".join(log.strip().splitlines()[-3:]) or "no output"
            raise EmulatorFailed(
                "The function failed its init before the snapshot (a before-snapshot hook's error is one): "
                f"{tail}"
            )
        if time.monotonic() > deadline:
            raise EmulatorFailed(
                f"The function's init did not reach the snapshot point within {timeout_s:.0f} s (SnapStart's "
                "init limit); shorten the init or check it with `nox -s local -- --faithful`"
            )
        time.sleep(POLL_S)
