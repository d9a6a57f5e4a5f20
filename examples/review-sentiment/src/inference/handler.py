"""The Lambda entry point: `inference.handler.lambda_handler`; the pipeline loads at import (cold start).

Events: `{"text": "..."}` or `{"texts": ["...", ...]}`. A bad event gets `{"error": {"type", "message"}}`.
"""

from __future__ import annotations

from typing import Any

from inference.pipeline import TOKENIZER_REPO, Pipeline

PIPELINE = Pipeline.load()


class BadEvent(ValueError):
    """The event is not `{"text": str}` or `{"texts": [str, ...]}`."""


def texts_of(event: Any) -> tuple[list[str], bool]:
    if isinstance(event, dict) and isinstance(event.get("text"), str) and event["text"].strip():
        return [event["text"]], False
    texts = event.get("texts") if isinstance(event, dict) else None
    if isinstance(texts, list) and texts and all(isinstance(t, str) and t.strip() for t in texts):
        return texts, True
    raise BadEvent('expected {"text": "..."} or {"texts": ["...", ...]} with non-empty strings')


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    try:
        texts, batch = texts_of(event)
    except BadEvent as exc:
        return {"error": {"type": "BadEvent", "message": str(exc)}}
    results = [PIPELINE.predict(text) for text in texts]
    source = {"lexicon": "nltk:vader_lexicon", "tokenizer": f"hf:{TOKENIZER_REPO}"}
    return {"results": results, "model": source} if batch else {**results[0], "model": source}
