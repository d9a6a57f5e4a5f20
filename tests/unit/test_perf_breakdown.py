"""The cold start's breakdown: Python's own import profile, cut into imports and the module's own code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lambdakit.perf import breakdown


def import_profile(tmp_path: Path, module_source: str) -> str:
    """The stderr of a real `python -X importtime` run importing a module with the given source."""
    (tmp_path / "fn_under_test.py").write_text(module_source)
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import fn_under_test"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stderr


def test_the_modules_own_code_and_its_imports_are_told_apart(tmp_path: Path) -> None:
    # GIVEN a handler module that imports a library and then works for a while at import (its "model load")
    log = import_profile(tmp_path, "import json, decimal\nsum(i * i for i in range(300_000))\n")
    # WHEN its line is read from the profile
    times = breakdown.import_times("START RequestId: x\n" + log, "fn_under_test")
    assert times is not None
    own_ms, cumulative_ms = times
    # THEN the own code is what the module did itself; the imports are the rest of its cumulative time
    assert own_ms > 0 and cumulative_ms >= own_ms
    assert breakdown.import_times(log, "decimal") is not None and breakdown.import_times(log, "nope") is None


def test_the_parts_add_up_to_the_cold_start() -> None:
    parts = breakdown.breakdown(cold_start_ms=400.0, first_invoke_ms=10.0, times=(120.0, 300.0))
    assert (parts.runtime_start_ms, parts.imports_ms, parts.init_code_ms) == (90.0, 180.0, 120.0)
    total = parts.runtime_start_ms + parts.imports_ms + parts.init_code_ms + parts.first_invoke_ms
    assert total == pytest.approx(parts.cold_start_ms)


def test_handler_string_names_its_module_and_the_floor_is_an_empty_handler(tmp_path: Path) -> None:
    assert breakdown.handler_module("inference.handler.lambda_handler") == "inference.handler"
    assert breakdown.handler_module("app.handler") == "app"
    context = breakdown.stage_floor(tmp_path / "floor")
    namespace: dict[str, object] = {}
    exec((context / "floor.py").read_text(), namespace)  # noqa: S102 - the file the floor image runs
    assert namespace["handler"]({"text": "x"}, None) == {}  # type: ignore[operator]
    assert 'CMD ["floor.handler"]' in (context / "Dockerfile").read_text()
