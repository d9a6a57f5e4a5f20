"""The ticket-topics function: every sample event, stop words, and bad events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from inference.handler import PIPELINE, lambda_handler

EVENTS = Path(__file__).resolve().parents[2] / "events"


def answer(name: str) -> dict[str, Any]:
    return lambda_handler(json.loads((EVENTS / name).read_text()), None)


def test_a_double_charge_goes_to_billing() -> None:
    result = answer("single.json")
    assert result["label"] == "billing" and result["scores"]["billing"] > 0.5
    assert set(result["scores"]) == {"account", "billing", "shipping", "technical"}
    assert sum(result["scores"].values()) == pytest.approx(1.0, abs=1e-3)


def test_a_batch_gets_one_topic_per_ticket_in_order() -> None:
    labels = [r["label"] for r in answer("batch.json")["results"]]
    assert labels == ["shipping", "technical", "account"]


def test_keywords_never_include_nltk_stop_words() -> None:
    assert {"the", "my", "and", "was"} <= PIPELINE.stop
    keywords = lambda_handler({"text": "The app and the website crash all the time"}, None)["keywords"]
    assert keywords and not set(keywords) & PIPELINE.stop


@pytest.mark.parametrize("event", [{}, {"text": "  "}, {"texts": []}, {"texts": ["ok", None]}, ["a list"]])
def test_a_bad_event_is_an_error_response(event: object) -> None:
    assert lambda_handler(event, None)["error"]["type"] == "BadEvent"
