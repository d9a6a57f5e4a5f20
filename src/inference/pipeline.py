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
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import onnxruntime as ort
from tokenizers import Encoding, Tokenizer
from tokenizers.models import WordPiece

from inference import paths
from inference.errors import EmptyText
from inference.integrity import Digests
from inference.preprocess import normalise

logger = logging.getLogger(__name__)

MAX_SEQ_LENGTH = 256  # all-MiniLM-L6-v2 was trained with 256; its own tokenizer.json says 128
TEMPERATURE = 0.05  # turns cosine similarities (about 0.0-0.8) into a peaked, readable distribution
EMBEDDING_DIM = 384
# Padded tokens per ONNX Runtime run. A run's activations grow with batch x length (attention with its
# square) and ONNX Runtime's arena keeps its largest size: 64 texts of 256 tokens in one run took the process
# to 1.2 GB, then 1.7 GB; in runs of 8 such texts it stays at 340 MB at the same speed (docs/performance.md).
MAX_RUN_TOKENS = 2048
MODEL_GRAPH_FILES = ("model.onnx", "model.onnx.data")  # the graph, then its weights (external data)
SPECIAL_TOKENS = 2  # [CLS] and [SEP]
LABELS_FILE = Path(__file__).with_name("labels.json")
Embeddings = np.ndarray[Any, np.dtype[np.float32]]


def labels_config() -> dict[str, list[str]]:
    """The triage labels and, for each, example texts whose mean embedding is the label's prototype."""
    # next to this module, in the image as in the repository (importlib.resources would add 15 ms of imports)
    text = LABELS_FILE.read_text(encoding="utf-8")
    config: dict[str, list[str]] = json.loads(text)
    return config


def labels_digest(config: dict[str, list[str]]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()


def cpu_threads() -> int:
    """Threads the CPU quota pays for: Lambda (and `docker --cpus`) throttle threads beyond it."""
    quota = _cgroup_cpu_quota()
    available = len(os.sched_getaffinity(0))  # taskset and cpusets limit it too
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


class Encoded(NamedTuple):
    embeddings: Embeddings
    tokens: list[int]
    truncated: list[bool]


class Encoder:
    """Tokenizer + ONNX sentence-embedding model (mean pooling and L2 normalisation are in the graph).

    The graph was optimised by ONNX Runtime at build time (`inference.prepare`) and its weights lie in an
    external file that ONNX Runtime maps instead of parsing and copying: loading skips the optimiser, and
    holds the weights once. Every file is checked against its recorded sha256 first (`inference.integrity`).
    """

    def __init__(self, directory: Path, digests: Digests | None = None) -> None:
        """`digests` checks every file before use; only the build (`inference.prepare`) goes without."""
        self.tokenizer = load_tokenizer(directory, digests)
        for name in MODEL_GRAPH_FILES:
            path = paths.require_file(name, directory)
            if digests:
                digests.check(path)
        ort.disable_telemetry_events()
        self.session = ort.InferenceSession(
            str(directory / MODEL_GRAPH_FILES[0]), session_options(), providers=["CPUExecutionProvider"]
        )

    def tokenize(self, texts: Sequence[str]) -> list[Encoding]:
        return list(self.tokenizer.encode_batch(list(texts)))

    def embed(self, encodings: Sequence[Encoding]) -> Embeddings:
        """Sentence embeddings in input order, computed in runs of similar length (bounded memory)."""
        embeddings = np.empty((len(encodings), EMBEDDING_DIM), dtype=np.float32)
        for run in _runs([len(e.ids) for e in encodings]):
            embeddings[run] = self._run([encodings[i] for i in run])
        return embeddings

    def encode(self, texts: Sequence[str]) -> Encoded:
        encodings = self.tokenize(texts)
        return Encoded(
            embeddings=self.embed(encodings),
            tokens=[len(e.ids) for e in encodings],
            truncated=[bool(e.overflowing) for e in encodings],
        )

    def _run(self, encodings: Sequence[Encoding]) -> Embeddings:
        ids = np.zeros((len(encodings), max(len(e.ids) for e in encodings)), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        (embeddings,) = self.session.run(["sentence_embedding"], feeds)
        return np.asarray(embeddings, dtype=np.float32)


def load_tokenizer(directory: Path, digests: Digests | None = None) -> Tokenizer:
    """The model's tokenizer, from its settings and its WordPiece vocabulary (one token per line).

    A whole tokenizer.json takes tokenizers about twice as long to load: it parses the 30,522-entry vocabulary
    as JSON. `inference.prepare` split it and checked that the two load to the same token ids.
    """
    settings_file, vocab_file = paths.TOKENIZER_FILES
    settings = _read(settings_file, directory, digests)
    vocab = paths.require_file(vocab_file, directory)
    if digests:
        digests.check(vocab)
    tokenizer = Tokenizer.from_buffer(settings)  # its vocabulary holds only the special tokens
    model = tokenizer.model  # the settings' WordPiece: the same options, read once by tokenizers
    tokenizer.model = WordPiece.from_file(
        str(vocab),
        unk_token=model.unk_token,
        continuing_subword_prefix=model.continuing_subword_prefix,
        max_input_chars_per_word=model.max_input_chars_per_word,
    )
    tokenizer.no_padding()  # each run pads to its own longest text (`_runs`)
    tokenizer.enable_truncation(max_length=MAX_SEQ_LENGTH)
    return tokenizer


def session_options() -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.intra_op_num_threads = cpu_threads()
    options.inter_op_num_threads = 1
    # Optimised once at build time; optimising again at every cold start would only cost time.
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return options


def _read(name: str, directory: Path, digests: Digests | None) -> bytes:
    return digests.read(name) if digests else paths.require_file(name, directory).read_bytes()


def _runs(lengths: Sequence[int]) -> list[list[int]]:
    """Indices grouped longest first so that no run pads more than MAX_RUN_TOKENS tokens in all."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True)
    runs: list[list[int]] = []
    for index in order:
        if runs and (len(runs[-1]) + 1) * lengths[runs[-1][0]] <= MAX_RUN_TOKENS:
            runs[-1].append(index)
        else:
            runs.append([index])
    return runs


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
        digests = Digests(directory)
        manifest = digests.manifest
        encoder = Encoder(directory, digests)
        labels, prototypes = _load_prototypes(directory, encoder, digests)
        model = {
            "id": manifest["model_id"],
            "revision": manifest["revision"],
            "source": manifest["source"],
            "precision": manifest.get("precision", "fp32"),
        }
        return cls(encoder, labels, prototypes, model)

    def predict(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        """Label and scores per text; `texts` are normalised (`inference.preprocess.normalise`)."""
        encodings = self.encoder.tokenize(texts)
        for number, encoding in enumerate(encodings, start=1):
            if len(encoding.ids) <= SPECIAL_TOKENS:
                raise EmptyText(
                    f"Text {number} of the request holds nothing the model reads (only accents or marks the "
                    "tokenizer drops); send the text to classify."
                )
        similarities = self.encoder.embed(encodings) @ self.prototypes.T
        return [
            _result(self.labels, row, len(encoding.ids), bool(encoding.overflowing))
            for row, encoding in zip(similarities, encodings, strict=True)
        ]


def compute_prototypes(encoder: Encoder, config: dict[str, list[str]]) -> Embeddings:
    vectors: list[Embeddings] = []
    for examples in config.values():
        mean = encoder.encode([normalise(text) for text in examples]).embeddings.mean(axis=0)
        vectors.append(mean / np.linalg.norm(mean))
    prototypes: Embeddings = np.stack(vectors).astype(np.float32)
    return prototypes


def _load_prototypes(directory: Path, encoder: Encoder, digests: Digests) -> tuple[list[str], Embeddings]:
    config = labels_config()
    stored = json.loads(_read("prototypes.json", directory, digests))
    if stored.get("labels_sha256") == labels_digest(config):
        return list(stored["labels"]), np.asarray(stored["vectors"], dtype=np.float32)
    # labels.json changed since the model was prepared: still correct, just slower to start.
    logger.warning(
        "labels.json changed since `%s`; embedding label prototypes at init", paths.PREPARE_COMMAND
    )
    return list(config), compute_prototypes(encoder, config)


def _result(labels: list[str], similarities: Embeddings, tokens: int, truncated: bool) -> dict[str, Any]:
    logits = similarities / TEMPERATURE
    weights = np.exp(logits - np.max(logits))
    probabilities = weights / weights.sum()
    best = int(np.argmax(probabilities))
    return {
        "label": labels[best],
        "scores": {label: round(float(p), 6) for label, p in zip(labels, probabilities, strict=True)},
        "similarity": round(float(similarities[best]), 6),
        "tokens": tokens,
        "truncated": truncated,
    }
