"""`build`: its arguments; anything it does not know goes to `sam build`."""

from __future__ import annotations

import pytest

from lambdakit import cli


def test_build_names_its_own_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli.main(["build", "--help"])
    assert stopped.value.code == 0
    out = capsys.readouterr().out
    for option in ("--base-image", "--asset-image", "--stage-only"):
        assert option in out
    assert "stage the function's build context, then `sam build`" in " ".join(out.split())
