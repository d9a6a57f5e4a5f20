"""`python -m lambdakit dev`: any function's events through its handler, by name, in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lambdakit.core import config, settings

REPO = Path(__file__).resolve().parents[3]
FIXTURE = REPO / "tests" / "fixtures" / "tinyfn"
HANDLER = "tinyfn.handler.lambda_handler"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    root = tmp_path / "cache"
    settings.make_cache_dirs(root)
    pythonpath = os.pathsep.join([str(FIXTURE / "src"), str(REPO / "src")])
    return {**os.environ, **settings.kit_env(root), "HOME": str(home), "PYTHONPATH": pythonpath}


def dev(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambdakit", "dev", "--handler", HANDLER, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=FIXTURE,
        check=False,
    )


def test_every_event_runs_through_one_loaded_handler(env: dict[str, str], tmp_path: Path) -> None:
    result = dev(env, "events/one.json", "events/three.json", '{"text": "a b"}')
    assert result.returncode == 0, result.stderr
    answers = [json.loads(chunk) for chunk in result.stdout.replace("}\n{", "}\0{").split("\0")]
    assert [a["count"] for a in answers] == [1, 3, 2]
    assert {a["function"] for a in answers} == {config.load().project}  # the context names the project
    assert result.stderr.count(f"# {HANDLER} loaded in") == 1
    # the cache folders existed, so the nltk-style load wrote into the cache root, not into HOME
    assert (tmp_path / "cache" / "nltk_data" / "tinyfn" / "model.txt").is_file()
    assert not any((tmp_path / "home").iterdir())


def test_an_error_response_or_a_raise_exits_1_and_the_other_events_still_run(env: dict[str, str]) -> None:
    result = dev(env, '{"fail": true}', '{"texts": 3}', "events/one.json")
    assert result.returncode == 1
    assert "RuntimeError: asked to fail" in result.stderr
    assert '{"fail": true}: the handler raised' in result.stderr
    assert '"statusCode": 400' in result.stdout
    assert "events/one.json: ok" in result.stderr


@pytest.mark.parametrize(
    ("handler", "message"),
    [
        ("nosuchmodule.handler.lambda_handler", "cannot import 'nosuchmodule.handler'"),
        ("tinyfn.handler.nosuchfunction", "tinyfn.handler has no function 'nosuchfunction'"),
    ],
)
def test_a_wrong_handler_setting_is_one_line_with_its_fix(
    env: dict[str, str], handler: str, message: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lambdakit", "dev", "--handler", handler, "events/one.json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=FIXTURE,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert "pyproject.toml" in result.stderr and "Traceback" not in result.stderr


def test_an_event_that_is_neither_file_nor_json_fails_before_the_import(env: dict[str, str]) -> None:
    result = dev(env, "events/missing.json")
    assert result.returncode == 2 and "neither an event file nor inline JSON" in result.stderr
    assert "loaded in" not in result.stderr
