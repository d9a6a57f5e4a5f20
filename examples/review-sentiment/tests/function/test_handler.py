"""The review-sentiment function: every sample event, a bad event, and the tokenizer window."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from inference.handler import lambda_handler

EVENTS = Path(__file__).resolve().parents[2] / "events"


def answer(name: str) -> dict[str, Any]:
    return lambda_handler(json.loads((EVENTS / name).read_text()), None)


def test_a_happy_review_is_positive() -> None:
    result = answer("single.json")
    assert result["label"] == "positive" and result["scores"]["compound"] > 0.5
    assert result["model"]["tokenizer"] == "hf:sentence-transformers/all-MiniLM-L6-v2"


def test_a_batch_gets_one_label_per_review_in_order() -> None:
    labels = [r["label"] for r in answer("batch.json")["results"]]
    assert labels == ["negative", "neutral", "positive"]


def test_only_the_tokenizer_window_of_a_long_review_is_scored() -> None:
    # GIVEN a review that is praise for 128 tokens and a complaint after them
    result = answer("long.json")
    # THEN it is cut to the window the tokenizer allows, and the complaint is not seen
    assert (result["tokens"], result["truncated"], result["label"]) == (128, True, "positive")


@pytest.mark.parametrize("event", [{}, {"text": ""}, {"texts": []}, {"texts": ["ok", 3]}, "just a string"])
def test_a_bad_event_is_an_error_response(event: object) -> None:
    assert lambda_handler(event, None)["error"]["type"] == "BadEvent"
