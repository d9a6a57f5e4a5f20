"""The Lambda entry point: `inference.handler.lambda_handler`; the model loads at import (cold start).

Events: `{"text": "..."}` or `{"texts": ["...", ...]}`. A bad event gets `{"error": {"type", "message"}}`.
"""

from __future__ import annotations

from typing import Any

from inference.pipeline import Pipeline

PIPELINE = Pipeline.load()


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    texts = event.get("texts", [event.get("text")]) if isinstance(event, dict) else None
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) and t.strip() for t in texts):
        message = 'expected {"text": "..."} or {"texts": ["...", ...]} with non-empty strings'
        return {"error": {"type": "BadEvent", "message": message}}
    results = PIPELINE.predict(texts)
    return {"results": results} if "texts" in event else results[0]
