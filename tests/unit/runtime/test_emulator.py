"""The emulator's log lines and answers, as aws-lambda-rie (aws-sam-cli 1.170) prints and sends them."""

from __future__ import annotations

import pytest

from lambdakit.config.target import Target
from lambdakit.runtime import emulator, environment

RIE_LOG = (
    "24 Nov 2026 05:37:31,434 [INFO] (rapid) INIT RTDONE(status: success)\n"
    "24 Nov 2026 05:37:31,434 [INFO] (rapid) INIT REPORT(durationMs: 1225.632000)\n"
    "24 Nov 2026 05:37:31,444 [INFO] (rapid) INVOKE RTDONE(status: success, produced bytes: 0, "
    "duration: 9.834000ms)\n"
    "END RequestId: 2ed3c750\n"
    "REPORT RequestId: 2ed3c750\tInit Duration: 0.07 ms\tDuration: 1239.07 ms\tBilled Duration: 1240 ms\t"
    "Memory Size: 1769 MB\tMax Memory Used: 1769 MB\t\n"
    "START RequestId: 544ab7e1 Version: $LATEST\n"
    "REPORT RequestId: 2e9906ad\tDuration: 9.02 ms\tBilled Duration: 10 ms\tMemory Size: 1769 MB\t\n"
    "REPORT RequestId: 4cf229b7\tDuration: 8.50 ms\tBilled Duration: 9 ms\tMemory Size: 1769 MB\t\n"
)
KILLED = '{"errorType":"Runtime.ExitError","errorMessage":"Runtime exited with error: signal: killed"}'


def test_init_report_is_the_real_init_duration() -> None:
    assert emulator.init_duration_ms(RIE_LOG) == pytest.approx(1225.632)
    assert emulator.init_duration_ms("no init here") is None


def test_report_lines_give_duration_and_the_lazy_init_duration() -> None:
    assert emulator.reports(RIE_LOG) == [
        emulator.Report(1239.07, 0.07),
        emulator.Report(9.02, None),
        emulator.Report(8.5, None),
    ]


def test_an_invokes_duration_is_the_runtimes_own_else_the_report() -> None:
    assert emulator.invoke_duration_ms(RIE_LOG) == 9.834
    assert emulator.invoke_duration_ms("REPORT RequestId: x\tDuration: 2.36 ms\tBilled") == 2.36
    assert emulator.invoke_duration_ms("nothing") is None


@pytest.mark.parametrize(
    ("status", "body", "log", "outcome"),
    [
        (200, '{"label": "billing"}', "", "ok"),
        (200, '"just a string"', "", "ok"),
        (200, '{"error": {"type": "UnknownField"}}', "", "error response"),
        (200, '{"statusCode": 400, "body": "{}"}', "", "error response"),
        (200, '{"statusCode": 200, "body": "{}"}', "", "ok"),
        (200, '{"errorMessage": "boom", "errorType": "OSError"}', "", "function error"),
        (200, "Task timed out after 2.00 seconds", "", "timeout"),
        (200, '{"label": "x"}', "Reset initiated: Timeout", "timeout"),
        (502, KILLED, "", "out of memory"),
        (502, '{"errorType":"Runtime.ExitError","errorMessage":"exit status 1"}', "", "crashed"),
        (0, "no answer within the client timeout (8 s)", "", "timeout"),
    ],
)
def test_the_verdict_on_an_answer(status: int, body: str, log: str, outcome: str) -> None:
    assert emulator.verdict(status, body, log) == outcome


def test_only_what_lambda_reports_as_function_error_is_a_failure() -> None:
    answer = environment.Invocation("bad.json", 200, '{"error": {}}', 1.0, outcome="error response")
    slow = environment.Invocation(
        "slow.json", 200, "Task timed out after 3.00 seconds", 3e3, outcome="timeout"
    )
    assert not answer.failed and slow.failed
    assert {"function error", "timeout", "out of memory", "crashed"} == emulator.FAILED


def test_handler_errors_are_read_from_direct_and_proxy_answers() -> None:
    assert emulator.handler_error({"error": {"type": "TooLong", "message": "m"}}) == ("TooLong", "m")
    proxy = {"statusCode": 413, "body": '{"error": {"type": "TooLarge", "message": "big"}}'}
    assert emulator.handler_error(proxy) == ("TooLarge", "big")
    assert emulator.handler_error({"statusCode": 500, "body": "oops"}) == ("HTTP 500", "oops")
    assert emulator.handler_error({"label": "x"}) is None
    assert emulator.runtime_error({"errorType": "E", "errorMessage": "m"}) == ("E", "m")


def test_cpus_follow_memory_but_never_exceed_the_host() -> None:
    assert environment.effective_cpus(Target(1769, 30, 512), host_cpus=2) == 1.0
    assert environment.effective_cpus(Target(512, 30, 512), host_cpus=2) == pytest.approx(0.289, abs=1e-3)
    assert environment.effective_cpus(Target(10240, 30, 512), host_cpus=2) == 2.0
