"""The Lambda entry point: `inference.handler.lambda_handler`; the model loads at import (cold start).

Events: `{"sample": {"alcohol": 13.2, ...}}` (all 13 measurements of model.FEATURES) or
`{"samples": [{...}, ...]}`. A bad event gets `{"error": {"type", "message"}}`.
"""

from __future__ import annotations

from typing import Any

from inference.model import FEATURES, Model

MODEL = Model.load()
MAX_SAMPLES = 1000


class BadEvent(ValueError):
    pass


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    try:
        samples = read_samples(event)
    except BadEvent as exc:
        return {"error": {"type": "BadEvent", "message": str(exc)}}
    results = MODEL.predict(samples)
    return {"results": results} if "samples" in event else results[0]


def read_samples(event: Any) -> list[list[float]]:
    if not isinstance(event, dict) or ("sample" in event) == ("samples" in event):
        raise BadEvent('expected {"sample": {...}} or {"samples": [{...}, ...]}')
    samples = event["samples"] if "samples" in event else [event["sample"]]
    if not isinstance(samples, list) or not 1 <= len(samples) <= MAX_SAMPLES:
        raise BadEvent(f'"samples" must be a list of 1 to {MAX_SAMPLES} samples')
    return [row(sample, number) for number, sample in enumerate(samples)]


def row(sample: Any, number: int) -> list[float]:
    if not isinstance(sample, dict):
        raise BadEvent(f"sample {number} is not an object of measurements")
    missing = [name for name in FEATURES if name not in sample]
    unknown = sorted(set(sample) - set(FEATURES))
    if missing or unknown:
        raise BadEvent(f"sample {number}: missing {missing[:3]}, unknown {unknown[:3]}")
    values = [sample[name] for name in FEATURES]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        raise BadEvent(f"sample {number}: every measurement must be a number")
    return [float(v) for v in values]
