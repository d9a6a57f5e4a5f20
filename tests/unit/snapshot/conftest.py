from __future__ import annotations

from pathlib import Path

import pytest

from lambdakit.snapshot import sandbox


@pytest.fixture
def box(tmp_path: Path) -> sandbox.Sandbox:
    """A snapshot sandbox (HOME, cache root, TMPDIR) built by hand under the test's folder."""
    return sandbox.Sandbox(
        tmp_path / "home", tmp_path / "cache", tmp_path / "tmp", tmp_path / "a" / "log"
    ).create()
