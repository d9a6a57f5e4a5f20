"""Where the local SnapStart restore refuses to run, in one line with the fix; criu's own error in the
message."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdakit.config.target import Target
from lambdakit.images import emulation, engine
from lambdakit.runtime import restore
from lambdakit.runtime.environment import Function

LINUX = {"OSType": "linux", "OperatingSystem": "Debian GNU/Linux 12 (bookworm)", "ExperimentalBuild": True}


def test_an_engine_that_can_checkpoint_is_not_refused() -> None:
    assert engine.checkpoint_refusal(LINUX) is None


@pytest.mark.parametrize(
    ("info", "says"),
    [
        ({**LINUX, "ExperimentalBuild": False}, "not started with --experimental"),
        ({**LINUX, "OperatingSystem": "Docker Desktop"}, "Docker Desktop, whose VM has no criu"),
        ({**LINUX, "OSType": "windows"}, "runs windows containers"),
    ],
)
def test_an_engine_that_cannot_checkpoint_is_refused_in_one_line_with_the_fix(
    info: dict[str, object], says: str
) -> None:
    why = engine.checkpoint_refusal(info)
    assert why is not None and says in why and "\n" not in why
    assert "criu" in why


def test_a_function_of_another_architecture_is_refused_before_the_engine_is_asked() -> None:
    other = "arm64" if emulation.host_architecture() == "x86_64" else "x86_64"
    limits = Target(memory_mb=1024, timeout_s=3, ephemeral_mb=512, architecture=other)
    why = restore.refusal(Function("any", limits))
    assert why is not None and "under QEMU" in why and "--faithful" in why


def test_criu_error_reads_the_first_error_line_of_the_log_the_engine_names(tmp_path: Path) -> None:
    dump_log = tmp_path / "criu-dump.log"
    dump_log.write_text(
        "(00.000100) Version: 4.2\n"
        "(00.004187) Error (criu/cr-dump.c:742): Can't get rlimit 0: Operation not permitted\n"
        "(00.004200) Error (criu/cr-dump.c:1900): Dumping FAILED.\n"
    )
    message = f"Cannot checkpoint container c: runc did not terminate: criu failed: path= {dump_log}: unknown"
    line = engine.criu_error(RuntimeError(message))
    assert line == "criu: Can't get rlimit 0: Operation not permitted (criu-dump.log)"
    assert restore.CANNOT_READ_RLIMITS in line  # what makes the restore fall back to uid 0


def test_criu_error_keeps_the_engines_line_when_the_log_is_out_of_reach() -> None:
    message = "criu failed: path= /nonexistent/criu-restore.log: unknown"
    assert engine.criu_error(RuntimeError(message)) == message
