"""`python -m lambdakit local`'s arguments: broken events fail alone, before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdakit.commands import local


def test_only_broken_events_exit_1_without_starting_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    event = tmp_path / "truncated.json"
    event.write_text('{"text": ')
    assert local.cli([str(event), "--faithful"]) == 1
    assert "truncated.json is not valid JSON" in capsys.readouterr().err


def test_snapstart_is_an_option_of_local() -> None:
    args, extra = local.parser().parse_known_args(["--snapstart", "events/a.json"])
    assert args.snapstart and not args.faithful and args.events == ["events/a.json"] and extra == []
