"""`python -m lambdakit dev` and `snapstart-check` run in the function's own environment (its packages, none
of the kit's tools): the commands and everything they import are the standard library and the kit only.
Their behaviour is tested through the command in tests/unit/runtime/test_dev.py and test_snapstart.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[3] / "src"
# -S: no site-packages at all, as in an environment that holds nothing but the function's own packages
LOADED_BEYOND_STDLIB = """
import sys
sys.path.insert(0, {src!r})
import importlib
importlib.import_module("lambdakit.cli")
importlib.import_module({module!r})
names = {{name.partition(".")[0] for name in sys.modules}}
print(sorted(names - set(sys.stdlib_module_names) - {{"lambdakit", "__main__"}}))
"""


@pytest.mark.parametrize("module", ["lambdakit.commands.dev", "lambdakit.commands.snapstart_check"])
def test_the_command_imports_nothing_beyond_the_standard_library(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-S", "-c", LOADED_BEYOND_STDLIB.format(src=str(SRC), module=module)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
