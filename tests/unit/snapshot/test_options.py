"""What the snapshot runs by default: the project's prepare hook, then every event through its handler."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdakit.core import config
from lambdakit.core.errors import ConfigError
from lambdakit.snapshot import options


def test_the_default_is_the_prepare_hook_then_every_event_through_the_configured_handler(
    tmp_path: Path,
) -> None:
    (tmp_path / "events").mkdir()
    for name in ("b", "a"):
        (tmp_path / "events" / f"{name}.json").write_text("{}")
    project = config.ProjectConfig("fn", "app.main.handle", ("python", "-m", "app.prepare", "--fast"))
    assert options.default_commands(project, tmp_path, "/py") == (
        ("/py", "-m", "lambdakit", "dev", "--handler", "app.main.handle", "events/a.json", "events/b.json"),
    )
    assert options.prepare_commands(project, "/py") == (("/py", "-m", "app.prepare", "--fast"),)
    assert options.prepare_commands(config.ProjectConfig(prepare=("make", "model")), "/py") == (
        ("make", "model"),
    )
    assert options.prepare_commands(config.ProjectConfig(), "/py") == ()


def test_a_project_without_events_is_told_to_add_them(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no sample events"):
        options.default_commands(config.ProjectConfig(), tmp_path)
