"""The default pipeline: normalise → MiniLM embeddings (ONNX Runtime) → cosine to label prototypes → scores.

Built once per process (`Pipeline.load`, at Lambda init) and reused by every call (`Pipeline.predict`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from inference import paths
from inference.preprocess import normalise

logger = logging.getLogger(__name__)

MAX_SEQ_LENGTH = 256  # all-MiniLM-L6-v2 was trained with 256; the shipped tokenizer.json says 128
TEMPERATURE = 0.05  # turns cosine similarities (about 0.0-0.8) into a peaked, readable distribution
Embeddings = np.ndarray[Any, np.dtype[np.float32]]


def labels_config() -> dict[str, list[str]]:
    """The triage labels and, for each, example texts whose mean embedding is the label's prototype."""
    text = resources.files("inference").joinpath("labels.json").read_text(encoding="utf-8")
    config: dict[str, list[str]] = json.loads(text)
    return config


def labels_digest(config: dict[str, list[str]]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()


def cpu_threads() -> int:
    """Threads the CPU quota pays for: Lambda (and `docker --cpus`) throttle threads beyond it."""
    quota = _cgroup_cpu_quota()
    available = os.cpu_count() or 1
    return max(1, min(available, math.ceil(quota))) if quota else available


def _cgroup_cpu_quota() -> float | None:
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota_us = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text())
        period_us = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota_us / period_us if quota_us > 0 else None


@dataclass(frozen=True)
class Encoded:
    embeddings: Embeddings
    tokens: list[int]
    truncated: list[bool]


class Encoder:
    """Tokenizer + ONNX sentence-embedding model (mean pooling and L2 normalisation are in the graph)."""

    def __init__(self, directory: Path) -> None:
        self.tokenizer = Tokenizer.from_file(str(paths.require_file("tokenizer.json", directory)))
        # Pad to the longest text of the call, not to the fixed 128 the shipped tokenizer.json asks for.
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 - a token, not a password
        self.tokenizer.enable_truncation(max_length=MAX_SEQ_LENGTH)
        ort.disable_telemetry_events()
        options = ort.SessionOptions()
        options.intra_op_num_threads = cpu_threads()
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            str(paths.require_file("model.onnx", directory)), options, providers=["CPUExecutionProvider"]
        )

    def encode(self, texts: Sequence[str]) -> Encoded:
        encodings = self.tokenizer.encode_batch(list(texts))
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        (embeddings,) = self.session.run(["sentence_embedding"], feeds)
        return Encoded(
            embeddings=np.asarray(embeddings, dtype=np.float32),
            tokens=[sum(e.attention_mask) for e in encodings],
            truncated=[bool(e.overflowing) for e in encodings],
        )


class Pipeline:
    """Support-ticket triage: one label and a score per label for each text."""

    def __init__(self, encoder: Encoder, labels: list[str], prototypes: Embeddings, model: dict[str, str]):
        self.encoder = encoder
        self.labels = labels
        self.prototypes = prototypes
        self.model = model

    @classmethod
    def load(cls, directory: Path | None = None) -> Pipeline:
        directory = directory or paths.model_dir()
        manifest = json.loads(paths.require_file("manifest.json", directory).read_text())
        encoder = Encoder(directory)
        labels, prototypes = _load_prototypes(directory, encoder)
        model = {
            "id": manifest["model_id"],
            "revision": manifest["revision"],
            "source": manifest["source"],
            "precision": manifest.get("precision", "fp32"),
        }
        return cls(encoder, labels, prototypes, model)

    def predict(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        encoded = self.encoder.encode([normalise(text) for text in texts])
        similarities = encoded.embeddings @ self.prototypes.T
        return [
            _result(self.labels, row, tokens, truncated)
            for row, tokens, truncated in zip(similarities, encoded.tokens, encoded.truncated, strict=True)
        ]


def compute_prototypes(encoder: Encoder, config: dict[str, list[str]]) -> Embeddings:
    vectors: list[Embeddings] = []
    for examples in config.values():
        mean = encoder.encode([normalise(text) for text in examples]).embeddings.mean(axis=0)
        vectors.append(mean / np.linalg.norm(mean))
    prototypes: Embeddings = np.stack(vectors).astype(np.float32)
    return prototypes


def _load_prototypes(directory: Path, encoder: Encoder) -> tuple[list[str], Embeddings]:
    config = labels_config()
    stored = json.loads(paths.require_file("prototypes.json", directory).read_text())
    if stored.get("labels_sha256") == labels_digest(config):
        return list(stored["labels"]), np.asarray(stored["vectors"], dtype=np.float32)
    # labels.json changed since the model was prepared: still correct, just slower to start.
    logger.warning(
        "labels.json changed since `%s`; embedding label prototypes at init", paths.PREPARE_COMMAND
    )
    return list(config), compute_prototypes(encoder, config)


def _result(labels: list[str], similarities: Embeddings, tokens: int, truncated: bool) -> dict[str, Any]:
    logits = similarities / TEMPERATURE
    weights = np.exp(logits - logits.max())
    probabilities = weights / weights.sum()
    best = int(np.argmax(probabilities))
    return {
        "label": labels[best],
        "scores": {label: round(float(p), 6) for label, p in zip(labels, probabilities, strict=True)},
        "similarity": round(float(similarities[best]), 6),
        "tokens": tokens,
        "truncated": truncated,
    }
