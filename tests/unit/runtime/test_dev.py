"""`python -m lambdakit dev`: any function's events through its handler, by name, in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambdakit.core import config, settings
from tests import brokenfiles as broken

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


def test_a_raise_shows_the_users_frames_only_and_one_line_from_the_kit(env: dict[str, str]) -> None:
    result = dev(env, '{"fail": true}')
    traceback = result.stderr[result.stderr.index("Traceback") :]
    assert 'tinyfn/handler.py", line' in traceback and "RuntimeError: asked to fail" in traceback
    assert "lambdakit" not in traceback.replace("lambdakit dev", "") and "runpy" not in traceback
    assert traceback.splitlines()[-1].startswith('# {"fail": true}: the handler raised RuntimeError: fix')


def write_package(root: Path, source: str) -> dict[str, str]:
    """A package `userfn` whose handler module is SOURCE, on a PYTHONPATH of its own."""
    package = root / "src" / "userfn"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "handler.py").write_text(source)
    return {"PYTHONPATH": os.pathsep.join([str(root / "src"), str(REPO / "src")])}


@pytest.mark.parametrize(
    ("source", "last_user_line", "error"),
    [
        (
            "import json\n\n\ndef load():\n    return json.loads('{')\n\n\nMODEL = load()\n",
            "MODEL = load()",
            "JSONDecodeError",
        ),
        (
            "def lambda_handler(event, context)\n    return 1\n",
            "def lambda_handler(event, context)",
            "SyntaxError",
        ),
        ("import nosuchlibrary_xyz\n", "import nosuchlibrary_xyz", "ModuleNotFoundError"),
    ],
)
def test_an_import_error_is_the_users_traceback_then_one_line(
    env: dict[str, str], tmp_path: Path, source: str, last_user_line: str, error: str
) -> None:
    env |= write_package(tmp_path / "user", source)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "lambdakit",
            "dev",
            "--handler",
            "userfn.handler.lambda_handler",
            "events/one.json",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=FIXTURE,
        check=False,
    )
    assert result.returncode == 2
    *shown, last = result.stderr.strip().splitlines()
    assert last.startswith("error: importing userfn.handler (the module of [tool.lambdakit] handler = ")
    assert f"raised {error}: fix your code where the traceback above points" in last
    assert any(last_user_line in line for line in shown) and 'userfn/handler.py", line' in "\n".join(shown)
    assert not any(marker in line for line in shown for marker in ("lambdakit", "importlib", "runpy"))


@pytest.mark.parametrize(
    ("handler", "source", "message"),
    [
        ("os.system", "", "handler = 'os.system' is in "),
        ("json.loads", "", "json/__init__.py (the standard library), not your function's code"),
        (
            "pytest.main",
            "",
            "(an installed package), not your function's code: set handler in pyproject.toml",
        ),
        ("userfn.handler.one", "def one(event):\n    return event\n", "takes (event), but Lambda calls it"),
    ],
)
def test_a_handler_not_of_the_function_or_not_of_event_and_context_is_refused_before_any_event(
    env: dict[str, str], tmp_path: Path, handler: str, source: str, message: str
) -> None:
    env |= write_package(tmp_path / "user", source)
    result = subprocess.run(
        [sys.executable, "-m", "lambdakit", "dev", "--handler", handler, "events/one.json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=FIXTURE,
        check=False,
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert (
        result.stderr.startswith("error: ") and message in result.stderr and "pyproject.toml" in result.stderr
    )


# --- broken events: each fails alone, in one line; the others still run (issue 22) --------------------------

SAMPLE = (FIXTURE / "events" / "three.json").read_bytes()
BROKEN_EVENTS = st.one_of(
    st.integers(0, len(SAMPLE.rstrip()) - 1).map(lambda n: SAMPLE[:n]),  # truncated: never JSON
    st.sampled_from(["utf-16", "utf-32"]).map(lambda codec: SAMPLE.decode().encode(codec)),
    st.tuples(st.integers(0, len(SAMPLE)), st.binary(max_size=4)).map(
        lambda cut: SAMPLE[: cut[0]] + b"\xff" + cut[1] + SAMPLE[cut[0] :]  # 0xff is never UTF-8
    ),
    st.integers(20_000, 100_000).map(lambda n: b"[" * n + b"]" * n),  # past every CPython's json depth
)


@broken.examples(3)
@given(payloads=st.lists(BROKEN_EVENTS, min_size=1, max_size=3))
def test_broken_events_fail_alone_in_one_line_each(
    env: dict[str, str], tmp_path_factory: pytest.TempPathFactory, payloads: list[bytes]
) -> None:
    folder = tmp_path_factory.mktemp("events")
    names = []
    for number, payload in enumerate(payloads):
        path = folder / f"broken-{number}.json"
        path.write_bytes(payload)
        names.append(str(path))
    result = dev(env, *names, "events/one.json")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    for name in names:
        lines = [line for line in result.stderr.splitlines() if name in line]
        assert len(lines) == 1 and lines[0].startswith(f"error: {name} "), result.stderr
        assert lines[0].endswith("(not run; the other events still run)")
    assert "events/one.json: ok" in result.stderr and json.loads(result.stdout)["count"] == 1
