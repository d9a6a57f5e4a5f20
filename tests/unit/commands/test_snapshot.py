"""`python -m lambdakit snapshot`'s arguments: sizes, the command after `--`, the interpreters nox names."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from lambdakit import cli
from lambdakit.commands import snapshot
from lambdakit.core import config


@pytest.mark.parametrize(
    ("text", "size"),
    [("10GB", 10 * 1000**3), ("500mb", 500 * 1000**2), ("1024", 1024), ("1.5G", int(1.5 * 1000**3))],
)
def test_sizes_parse(text: str, size: int) -> None:
    assert snapshot.parse_size(text) == size


def test_a_size_that_is_not_one_is_refused() -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        snapshot.parse_size("ten")


def test_the_command_after_dashes_replaces_the_default_pipeline(tmp_path: Path) -> None:
    argv = ["--output", str(tmp_path), "--no-verify", "--", "python", "-c", "--"]
    chosen = snapshot.options_from(snapshot.parser().parse_args(argv), config.load())
    assert chosen.commands == (("python", "-c", "--"),) and not chosen.verify and chosen.output == tmp_path
    assert chosen.prepare == (), "a custom command replaces the prepare hook too"


def test_the_events_and_the_hook_run_on_the_interpreters_nox_names() -> None:
    # nox -s snapshot runs in the kit's tools env: the function's and the hook's environments are others
    args = ["--python", "/envs/function/bin/python", "--prepare-python", "/envs/prepare/bin/python"]
    project = config.load()
    chosen = snapshot.options_from(snapshot.parser().parse_args(args), project)
    assert {argv[0] for argv in chosen.commands} == {"/envs/function/bin/python"}
    alone = snapshot.options_from(snapshot.parser().parse_args(args[:2]), project)  # the hook: --python
    hook = project.prepare
    if hook and hook[0] in {"python", "python3"}:  # the demo's hook; an adopted repository may have none
        assert chosen.prepare[0][0] == "/envs/prepare/bin/python"
        assert alone.prepare[0][0] == "/envs/function/bin/python"


def test_the_entry_point_runs_this_module_whose_help_describes_the_outputs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.COMMANDS["snapshot"][0] == snapshot.__name__
    with pytest.raises(SystemExit) as stopped:
        cli.main(["snapshot", "--help"])
    assert stopped.value.code == 0
    shown = capsys.readouterr().out
    assert "build/assets/report.json" in shown and "--max-size SIZE" in shown
