"""`python -m lambdakit snapstart-check`: each planted SnapStart problem is found and named with its hook."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lambdakit.core.errors import CommandFailed
from lambdakit.runtime import snapstart

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests" / "fixtures" / "snapstart"
EVENT = {"text": "hi"}


def check(module: str) -> snapstart.Report:
    return snapstart.run_dev(f"{module}.lambda_handler", EVENT, extra_path=[FIXTURES], timeout_s=120)


@pytest.mark.parametrize(
    ("module", "kind", "names", "hook"),
    [
        ("seeded_random", "random", "random (the global generator)", "register_after_restore(random.seed)"),
        ("seeded_numpy", "random", "seeded_numpy.RNG", "`seeded_numpy.RNG = numpy.random.default_rng()`"),
        ("init_uuid", "unique value", "response field environment", "register_after_restore"),
        ("init_socket", "socket", "datagram socket ('127.0.0.1'", "register_before_snapshot"),
        ("init_tmp_file", "tmp file", "snapstart-fixture.lock was written at init", "register_after_restore"),
        ("init_thread", "thread", "'credentials-refresher'", "register_after_restore"),
    ],
)
def test_each_planted_problem_is_one_finding_naming_its_hook(
    module: str, kind: str, names: str, hook: str
) -> None:
    report = check(module)
    assert [finding.check for finding in report.findings] == [kind]
    finding = report.findings[0]
    assert names in finding.what and hook in finding.fix
    assert "\n" not in finding.line()


@pytest.mark.parametrize("module", ["clean", "hooked"])
def test_a_ready_function_has_no_finding(module: str) -> None:
    report = check(module)
    assert report.ready, report.findings


def test_hooks_run_as_on_lambda_through_the_stand_in() -> None:
    report = check("hooked")  # without snapshot_restore_py installed, the harness provides its API
    assert report.info["hooks"] == {"before_snapshot": 1, "after_restore": 1}


def test_a_handler_that_fails_at_init_is_one_line() -> None:
    with pytest.raises(
        CommandFailed, match=r"could not run the function: ModuleNotFoundError: .*no_such_module"
    ):
        snapstart.run_dev("no_such_module.lambda_handler", EVENT, timeout_s=60)


def test_no_report_names_the_last_line() -> None:
    with pytest.raises(CommandFailed, match="printed no report; its last line: Killed"):
        snapstart.parse_report("some output\n", "Traceback...\nKilled\n")


def test_the_cli_exits_1_with_findings_and_prints_each(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps(EVENT))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(FIXTURES)])}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "lambdakit",
            "snapstart-check",
            str(event),
            "--handler",
            "init_uuid.lambda_handler",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "1 finding(s) for SnapStart" in result.stdout and "unique value: response field" in result.stdout
