"""What two runs of the demo must share to be the same answer: image vs dev loop, arm64 vs x86_64."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

SRC = Path(__file__).resolve().parents[2] / "src"


def dev_answer(python: str, event: Path, env: dict[str, str] | None = None) -> Any:
    """`python -m inference EVENT` run by the function environment's interpreter: the dev loop's answer."""
    done = subprocess.run(
        [python, "-m", "inference", str(event)],
        capture_output=True,
        text=True,
        env=(env or dict(os.environ)) | {"PYTHONPATH": str(SRC)},
        check=False,
        timeout=300,
    )
    assert done.returncode in (0, 1), done.stderr[-3000:]
    return json.loads(done.stdout)


def assert_same_answers(got: object, expected: object) -> None:
    """Same label and token count per text, scores within 1e-4, whatever the response's shape."""
    if isinstance(got, dict) and "body" in got and isinstance(expected, dict):
        assert_same_answers(json.loads(got["body"]), json.loads(expected["body"]))
        return
    assert isinstance(got, dict) and isinstance(expected, dict), (got, expected)
    pairs = zip(got.get("results", [got]), expected.get("results", [expected]), strict=True)
    for ours, theirs in pairs:
        assert (ours["label"], ours["tokens"]) == (theirs["label"], theirs["tokens"])
        assert ours["scores"].keys() == theirs["scores"].keys()
        assert all(abs(ours["scores"][k] - theirs["scores"][k]) < 1e-4 for k in ours["scores"]), (
            ours,
            theirs,
        )


def labels_of(response: object) -> list[str]:
    """The label(s) of a success response, whatever the event shape (proxy bodies are JSON strings)."""
    if isinstance(response, dict) and "body" in response:
        return labels_of(json.loads(response["body"]))
    assert isinstance(response, dict), response
    if "results" in response:
        return [item["label"] for item in response["results"]]
    return [response["label"]]
