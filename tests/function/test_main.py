"""`python -m inference`: the local loop's contract (output, exit codes, one-line setup errors)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inference", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO / "src"), **(env or {})},
        check=False,
    )


@pytest.mark.model
@pytest.mark.usefixtures("model_dir")
@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (("events/single.json",), None),
        (("-",), '{"text": "I was double charged"}'),
        (('{"text": "I was double charged"}',), None),
        (("--text", "I was double charged"), None),
    ],
    ids=["file", "stdin", "inline", "text-flag"],
)
def test_success_prints_json_and_exits_0(args: tuple[str, ...], stdin: str | None) -> None:
    result = run(*args, stdin=stdin)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["label"] == "billing"


@pytest.mark.model
@pytest.mark.usefixtures("model_dir")
def test_error_response_exits_1() -> None:
    result = run('{"txt": "typo"}')
    assert result.returncode == 1
    assert json.loads(result.stdout)["error"]["type"] == "UnknownField"


def test_missing_model_is_one_line_naming_file_variable_and_command(tmp_path: Path) -> None:
    result = run("--text", "hi", env={"HF_HOME": str(tmp_path / "hf")})
    assert result.returncode == 2 and result.stdout == ""
    line = result.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert "model.onnx" in line or "manifest.json" in line
    assert "$HF_HOME" in line and "nox -s prepare" in line


def test_neither_file_nor_json_is_a_usage_error() -> None:
    result = run("no-such-file.json")
    assert result.returncode != 0 and "neither a file nor inline JSON" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("INFERENCE_MAX_TEXTS", "abc", "from 1 to 256"),
        ("INFERENCE_MAX_TEXTS", "0", "from 1 to 256"),
        ("INFERENCE_MAX_TEXT_CHARS", "-1", "from 1 to 6291456"),
        ("INFERENCE_PRECISION", "fp16", "is not one of fp32, int8"),
    ],
)
def test_an_unusable_setting_fails_the_init_in_one_line(variable: str, value: str, expected: str) -> None:
    # INFERENCE_MODEL_DIR names an empty folder: the setting must fail first, and the precision be read anyway
    result = run("--text", "hi", env={variable: value, "INFERENCE_MODEL_DIR": str(REPO / "no-such-model")})
    assert result.returncode == 2 and result.stdout == ""
    line = result.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert line.startswith(f"error: ${variable}={value!r} ") and expected in line
