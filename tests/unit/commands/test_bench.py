"""`python -m lambdakit bench`'s arguments, refused before anything is built."""

from __future__ import annotations

import pytest

from lambdakit.commands import bench
from lambdakit.core.errors import ConfigError


def test_int8_asset_image_only_with_quantize() -> None:
    with pytest.raises(ConfigError, match="--int8-asset-image needs --quantize"):
        bench.cli(["--int8-asset-image", "x-assets:1"])


@pytest.mark.parametrize("argv", [["--cold-starts", "0"], ["--invokes", "0"]])
def test_counts_below_one_are_refused(argv: list[str]) -> None:
    with pytest.raises(ConfigError, match="must be at least 1"):
        bench.cli(argv)
