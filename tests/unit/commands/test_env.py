"""`env`: the ENV block as shell assignments, read back by the shell unchanged."""

from __future__ import annotations

import shlex

import pytest

from lambdakit import cli
from lambdakit.core import settings


def test_env_prints_the_kits_block_for_the_root_it_is_given(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["env", "--root", "/tmp/my cache", "--offline"]) == 0
    lines = capsys.readouterr().out.splitlines()
    printed = dict(line.split("=", 1) for line in lines)
    expected = settings.kit_env("/tmp/my cache", offline=True)
    assert {name: shlex.split(value)[0] for name, value in printed.items()} == expected
