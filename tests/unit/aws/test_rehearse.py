"""The rehearsal's code change lands in whatever handler `[tool.lambdakit]` names, not only the demo's."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from lambdakit.aws import rehearse
from lambdakit.core.config import ProjectConfig


def test_the_change_tags_the_configured_handlers_answers(tmp_path: Path) -> None:
    source = tmp_path / "src"
    for package in ("lambdakit", "app", "helpers"):
        (source / package).mkdir(parents=True)
        (source / package / "__init__.py").write_text("")
    (source / "app" / "main.py").write_text("def handle(event, context):\n    return {'echo': event}\n")
    project = ProjectConfig("app", "app.main.handle")

    changed = rehearse.changed_source(tmp_path / "work", "r2", project, source)

    assert sorted(p.name for p in changed.iterdir()) == ["app", "helpers"]  # the kit never ships
    spec = importlib.util.spec_from_file_location("changed_main", changed / "app" / "main.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.handle(1, None) == {"echo": 1, rehearse.REVISION_KEY: "r2"}
    assert (source / "app" / "main.py").read_text().count("def handle") == 1  # the original is untouched
