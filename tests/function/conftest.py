"""The demo function's own fixtures: its tests may import it (the kit's tests never do)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The prepared model at the precision INFERENCE_PRECISION selects; its absence is a failure."""
    from inference import paths
    from inference.prepare import is_prepared

    directory = paths.model_dir()
    if not is_prepared(directory):
        pytest.fail(f"the default model is not prepared in {directory}: run `nox -s prepare` first")
    return directory
