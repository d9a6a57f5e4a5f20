"""`python -m lambdakit invoke`'s arguments: events from files or inline JSON, and the template's timeout."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdakit.aws import config as aws_config
from lambdakit.commands import invoke
from lambdakit.core.config import ProjectConfig
from tests.unit.config.test_template import image_function, write

PROJECT = ProjectConfig(project="triage")


def test_invoke_waits_the_templates_timeout_or_lambdas_maximum_when_it_is_broken(tmp_path: Path) -> None:
    good = invoke.function_template(PROJECT, write(tmp_path, image_function("Timeout: 42")))
    samconfig = tmp_path / "samconfig.toml"
    samconfig.write_text("version = 0.1\n")
    assert good is not None and aws_config.load(PROJECT, good, samconfig).function_timeout_s == 42
    # a broken template is `build`'s to report: invoke still calls the deployed function
    assert invoke.function_template(PROJECT, write(tmp_path, "Resources: {Other: {Type: X}}\n")) is None
    assert invoke.function_template(PROJECT, tmp_path / "absent.yaml") is None


def test_cli_reads_event_files_and_inline_json(tmp_path: Path) -> None:
    event = tmp_path / "e.json"
    event.write_bytes(b'{"text": "a"}')

    assert invoke.read_event(str(event)) == b'{"text": "a"}'
    assert invoke.read_event('{"text": "b"}') == b'{"text": "b"}'
    with pytest.raises(Exception, match="neither a file nor inline JSON"):
        invoke.read_event("no-such-file")
    folder = tmp_path / "events"
    folder.mkdir()
    (folder / "b.json").write_bytes(b"[2]")
    (folder / "a.json").write_bytes(b"[1]")
    assert invoke.events_in([str(folder), "[3]"]) == [
        (str(folder / "a.json"), b"[1]"),
        (str(folder / "b.json"), b"[2]"),
        ("inline", b"[3]"),
    ]
