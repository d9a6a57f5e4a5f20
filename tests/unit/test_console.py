"""The kit's console: sizes in one unit system, bars that nest and end as one line in a log."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lambdakit import console


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (950, "950 B"),
        (9_400, "9.4 KB"),
        (87_300_000, "87.3 MB"),
        (10 * 1000**3, "10.0 GB"),
        (3e12, "3000.0 GB"),
    ],
)
def test_sizes_are_decimal_as_registries_and_aws_state_them(size: float, shown: str) -> None:
    assert console.human_bytes(size) == shown


def test_a_step_within_a_step_gets_its_own_line_on_the_same_display(console_output: io.StringIO) -> None:
    with console.progress("outer", total=2) as outer:
        outer.advance()
        with console.progress("inner", total=3) as inner:  # rich allows one live display: no LiveError
            inner.advance(3)
        outer.advance()
    shown = [line.split() for line in console_output.getvalue().splitlines()]
    assert [(words[:2], words[-2]) for words in shown] == [(["✓", "outer"], "2/2"), (["✓", "inner"], "3/3")]


def test_a_bar_of_unknown_length_ends_full_under_its_own_description(console_output: io.StringIO) -> None:
    with console.progress("debootstrap trixie") as bar:
        bar.update(completed=5, note="debootstrap trixie: configuring python3")
    (line,) = console_output.getvalue().splitlines()
    assert line.startswith("✓ debootstrap trixie ") and line.split()[-2] == "5/5"


def test_a_step_that_fails_is_not_shown_as_done(console_output: io.StringIO) -> None:
    with pytest.raises(RuntimeError), console.progress("push x", total=10) as bar:
        bar.advance(4)
        raise RuntimeError("registry gone")
    (line,) = console_output.getvalue().splitlines()
    assert not line.startswith("✓") and line.split()[-2] == "4/10"


def test_in_a_log_file_a_finished_bar_is_printed_whole() -> None:
    # a subprocess: the console decides its width at import, from what its stderr is (here a pipe)
    code = (
        "from lambdakit import console\n"
        "with console.progress('push 127.0.0.1:5000/' + 'x' * 60 + ':fn-1', unit='bytes') as bar:\n"
        "    bar.update(completed=4_200_000, total=4_200_000)\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "COLUMNS"}
    env["PYTHONPATH"] = str(Path(console.__file__).parents[1])
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    (line,) = done.stderr.splitlines()
    assert line.startswith("✓ push 127.0.0.1:5000/") and "4.2/4.2 MB" in line
