"""`nox -s local` over events/: a broken event fails alone, in one line, before any container starts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambdakit.config.target import Target
from lambdakit.core.errors import CheckpointUnavailable
from lambdakit.images import emulation
from lambdakit.runtime import local
from lambdakit.runtime.environment import Invocation


def test_broken_events_are_one_line_each_and_the_others_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.json"
    good.write_text('{"text": "a b"}')
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\x00\x01\xfe\xff")
    deep = tmp_path / "deep.json"
    deep.write_bytes(b"[" * 100_000 + b"]" * 100_000)

    runnable, broken = local.runnable_events([binary, good, deep])

    assert runnable == [good] and broken == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and all(line.endswith("(not run; the other events still run)") for line in lines)
    assert "binary.json is not UTF-8 text (byte 0xfe at offset 2)" in lines[0]
    assert "deep.json nests deeper than Python's JSON parser allows" in lines[1]


def test_the_answer_column_shows_labels_or_else_the_body() -> None:
    demo = '{"results": [{"label": "billing"}, {"label": "bug"}]}'
    assert local._answer(Invocation("b.json", 200, demo, 1.0)) == "billing, bug"
    other = '{"results": [{"species": "setosa", "probability": 0.981}]}'  # not "None"
    assert local._answer(Invocation("s.json", 200, other, 1.0)) == other
    long = json.dumps({"results": [{"species": "virginica", "probability": 0.9523}] * 2})
    assert local._answer(Invocation("l.json", 200, long, 1.0)) == long[:57] + "..."
    proxied = json.dumps({"statusCode": 200, "body": json.dumps({"label": "bug"})})
    assert local._answer(Invocation("p.json", 200, proxied, 1.0)) == "bug"


def test_restored_answers_must_be_byte_identical_except_a_runtime_errors_request_id() -> None:
    ok = Invocation("e", 200, '{"count": 1}', 1.0)
    assert local.same_answer(ok, Invocation("e", 200, '{"count": 1}', 2.0))
    assert not local.same_answer(ok, Invocation("e", 200, '{"count":1}', 2.0))  # same JSON, other bytes
    assert not local.same_answer(ok, Invocation("e", 502, '{"count": 1}', 2.0))
    error = {"errorMessage": "asked to fail", "errorType": "RuntimeError", "stackTrace": []}
    faithful = Invocation("e", 200, json.dumps({**error, "requestId": "a"}), 1.0, outcome="function error")
    restored = Invocation("e", 200, json.dumps({**error, "requestId": "b"}), 1.0, outcome="function error")
    assert local.same_answer(faithful, restored)
    other = Invocation("e", 200, json.dumps({**error, "errorMessage": "x"}), 1.0, outcome="function error")
    assert not local.same_answer(faithful, other)


def test_snapstart_refuses_a_function_it_cannot_checkpoint_before_starting_anything() -> None:
    other = "arm64" if emulation.host_architecture() == "x86_64" else "x86_64"
    limits = Target(memory_mb=1024, timeout_s=3, ephemeral_mb=512, architecture=other)
    with pytest.raises(CheckpointUnavailable, match="under QEMU"):
        local.run_snapstart("any:latest", limits, [], "lambdakit-test")
