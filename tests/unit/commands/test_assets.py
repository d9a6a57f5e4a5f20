"""`assets`: its arguments, and a snapshot that found nothing to ship (no Docker needed)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdakit.commands import assets as command
from tests.unit.images.test_assets import report


@pytest.fixture(autouse=True)
def default_signals() -> Iterator[None]:
    """The command arms SIGTERM and SIGHUP to unwind as Ctrl-C: put pytest's handlers back afterwards."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGHUP)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def test_assets_has_nothing_to_build_and_succeeds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = report(tmp_path, "none")
    assert command.cli(["--report", str(path)]) == 0
    assert "nothing to build" in capsys.readouterr().out


def test_registry_without_publish_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        command.cli(["--registry", "localhost:5000"])
    assert stopped.value.code == 2
    assert "--registry needs --publish" in capsys.readouterr().err
