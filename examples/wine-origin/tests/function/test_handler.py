"""The wine-origin function: every sample event, the confidence setting, and bad events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from inference import model
from inference.handler import MODEL, lambda_handler

EVENTS = Path(__file__).resolve().parents[2] / "events"


def answer(name: str) -> dict[str, Any]:
    return lambda_handler(json.loads((EVENTS / name).read_text()), None)


def test_a_held_out_wine_gets_its_cultivar() -> None:
    result = answer("single.json")
    assert result["cultivar"] == "class_0" and not result["uncertain"]
    assert set(result["scores"]) == {"class_0", "class_1", "class_2"}
    assert sum(result["scores"].values()) == pytest.approx(1.0, abs=1e-3)


def test_a_batch_gets_one_cultivar_per_wine_in_order() -> None:
    assert [r["cultivar"] for r in answer("batch.json")["results"]] == ["class_1", "class_2", "class_0"]


def test_the_model_file_ships_beside_the_code() -> None:
    assert model.MODEL_FILE.is_file() and model.MODEL_FILE.parent.name == "inference"
    assert [str(c) for c in MODEL.estimator.classes_] == ["class_0", "class_1", "class_2"]


def test_an_answer_below_the_configured_confidence_is_flagged() -> None:
    sample = json.loads((EVENTS / "single.json").read_text())["sample"]
    strict = model.Model(MODEL.estimator, min_confidence=0.99)
    assert strict.predict([[sample[f] for f in model.FEATURES]])[0]["uncertain"] is True


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"sample": {"alcohol": 13.0}},
        {"samples": []},
        {"sample": 3},
        ["a list"],
        {"sample": {}, "samples": []},
    ],
)
def test_a_bad_event_is_an_error_response(event: object) -> None:
    assert lambda_handler(event, None)["error"]["type"] == "BadEvent"
