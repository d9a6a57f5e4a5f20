"""The cold start's breakdown from a real import profile shaped like the runtime's: the runtime client's
imports, then the handler's (imported with importlib, as awslambdaric does), then its own code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lambdakit.perf import breakdown

RUNTIME_CLIENT = "import importlib, json\n\ndef run():\n    importlib.import_module('fn_under_test')\n"
HANDLER = "import decimal, fractions\nsum(i * i for i in range(300_000))  # its 'model load'\n"


def profiled_start(tmp_path: Path) -> str:
    """stderr of `python -X importtime` running a stand-in runtime client that imports the handler."""
    (tmp_path / "awslambdaric.py").write_text(RUNTIME_CLIENT)
    (tmp_path / "fn_under_test.py").write_text(HANDLER)
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import awslambdaric; awslambdaric.run()"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stderr


def test_the_handlers_imports_are_the_top_level_lines_after_the_runtime_clients(tmp_path: Path) -> None:
    log = profiled_start(tmp_path)
    runtime_ms, handler_ms = breakdown.top_level_imports(log) or (0.0, 0.0)
    # importlib hides the handler's own line: its imports are the top-level lines after the runtime's
    modules = [line.split("|")[-1] for line in log.splitlines()]
    assert modules.index(" awslambdaric") < modules.index(" decimal") < modules.index(" fractions")
    assert runtime_ms > 0 and handler_ms > 0
    assert "fn_under_test" not in log


def test_the_parts_add_up_to_the_cold_start() -> None:
    log = "\n".join(
        [
            "import time:      2000 |      30000 | awslambdaric.bootstrap",
            "import time:      1000 |      50000 | numpy",
            "import time:       500 |      20000 |   numpy.core",
            "01 Dec 2026 16:37:23,477 [INFO] (rapid) INIT REPORT(durationMs: 200.0)",
            "01 Dec 2026 16:37:23,481 [INFO] (rapid) INVOKE RTDONE(status: success, produced bytes: 0, "
            "duration: 10.5ms)",
        ]
    )
    parts = breakdown.breakdown(cold_start_ms=400.0, init_report_ms=200.0, log=log)
    assert parts is not None
    assert (parts.runtime_imports_ms, parts.imports_ms, parts.init_code_ms) == (30.0, 50.0, 120.0)
    assert (parts.runtime_start_ms, parts.first_invoke_ms) == (189.5, 10.5)
    total = sum(value for key, value in parts.as_dict().items() if key != "cold_start_ms")
    assert total == pytest.approx(parts.cold_start_ms)
    assert breakdown.breakdown(400.0, 200.0, "no profile in this log") is None


def test_the_floor_is_an_empty_handler(tmp_path: Path) -> None:
    context = breakdown.stage_floor(tmp_path / "floor")
    namespace: dict[str, object] = {}
    exec((context / "floor.py").read_text(), namespace)  # noqa: S102 - the file the floor image runs
    assert namespace["handler"]({"text": "x"}, None) == {}  # type: ignore[operator]
    assert 'CMD ["floor.handler"]' in (context / "Dockerfile").read_text()
