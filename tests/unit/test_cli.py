"""The entry point's logging: what a log file (CI, no terminal) receives, and the verbose switch."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdakit import cli
from lambdakit.core.settings import VERBOSE_ENV


@pytest.fixture
def fresh_logging() -> Iterator[None]:
    """`cli.setup_logging` replaces the root handlers (pytest's too): put them back afterwards."""
    root, kit = logging.getLogger(), logging.getLogger("lambdakit")
    handlers, levels = list(root.handlers), (root.level, kit.level)
    yield
    root.handlers[:] = handlers
    root.setLevel(levels[0])
    kit.setLevel(levels[1])


@pytest.mark.usefixtures("fresh_logging")
def test_outside_a_terminal_each_record_is_one_plain_line(
    console_output: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(VERBOSE_ENV, raising=False)
    cli.setup_logging()
    message = (
        "pip install --target /a/rather/long/path/that/would/wrap/at/eighty/columns/deps (20 packages, cp313)"
    )
    logging.getLogger("lambdakit.images.hostinstall").info(message)
    logging.getLogger("lambdakit.images.engine").debug("Step 1/4 : ARG BASE_IMAGE")
    assert re.fullmatch(rf"\d\d:\d\d:\d\d INFO    {re.escape(message)}\n", console_output.getvalue())


@pytest.mark.usefixtures("fresh_logging")
def test_the_verbose_switch_shows_the_tools_own_lines(
    console_output: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(VERBOSE_ENV, "1")
    cli.setup_logging()
    logging.getLogger("lambdakit.images.engine").debug("Step 1/4 : ARG BASE_IMAGE")
    assert console_output.getvalue().endswith("DEBUG   Step 1/4 : ARG BASE_IMAGE\n")


# Rooms whose commands moved to lambdakit.commands (issue 19); the lead adds the others as they move.
LOGIC_ROOMS = ("aws", "perf", "runtime")
PACKAGE = Path(cli.__file__).parent
# Not commands: processes the kit starts itself (the rehearsal's moto server, `python -m ...motoext`).
SERVERS = {"aws/rehearsal/motoext.py"}


def test_logic_rooms_hold_no_command_layer() -> None:
    """Argument parsing and `cli()` live in lambdakit/commands/; the rooms below take what it loaded."""
    found = [
        str(path.relative_to(PACKAGE))
        for room in LOGIC_ROOMS
        for path in sorted((PACKAGE / room).rglob("*.py"))
        if re.search(r"^import argparse|^def cli\(", path.read_text(encoding="utf-8"), re.MULTILINE)
    ]
    assert set(found) == SERVERS
    moved = {module for module, _ in cli.COMMANDS.values() if module.split(".")[1] in LOGIC_ROOMS}
    assert moved == set()
