"""Running tools: output line by line as it comes (for progress), failures as one line with the tool's last
words, no process left behind."""

from __future__ import annotations

import sys

import pytest

from lambdakit.core import proc
from lambdakit.core.errors import CommandFailed, ToolMissing


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_follow_hands_over_every_line_of_stdout_and_stderr_in_order() -> None:
    seen: list[str] = []
    code = (
        "import sys\nfor i in range(3):\n    print(f'step {i}', flush=True)\nprint('warn', file=sys.stderr)"
    )
    proc.follow(python(code), "counting", seen.append)
    assert seen == ["step 0", "step 1", "step 2", "warn"]


def test_a_failure_names_the_step_the_exit_status_and_the_last_lines() -> None:
    # flushed as written: a block-buffered stdout would reach the pipe after stderr's line, at exit
    code = "import sys\nfor i in range(9):\n    print(f'line {i}', flush=True)\n"
    code += "print('disk full', file=sys.stderr)\nsys.exit(3)"
    with pytest.raises(CommandFailed) as failure:
        proc.follow(python(code), "installing things", lambda _: None)
    message = str(failure.value)
    assert message.startswith("installing things failed (exit 3): ")
    assert message.endswith("line 5 | line 6 | line 7 | line 8 | disk full") and "line 4" not in message


def test_a_tool_that_outlives_its_timeout_is_killed_and_reported() -> None:
    with pytest.raises(CommandFailed, match=r"sleeping did not finish within 1 s"):
        proc.follow(
            python("import time; print('started', flush=True); time.sleep(60)"), "sleeping", print, timeout=1
        )


def test_an_error_while_showing_a_line_stops_the_tool() -> None:
    def refuse(line: str) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        proc.follow(python("import time; print('x', flush=True); time.sleep(60)"), "sleeping", refuse)


def test_a_missing_tool_says_so() -> None:
    with pytest.raises(ToolMissing, match="`no-such-tool-xyz` is not installed"):
        proc.follow(["no-such-tool-xyz"], "probing", print)
