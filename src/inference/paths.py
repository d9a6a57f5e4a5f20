"""Where the pipeline finds its model: under the cache root, never in the package or the network."""

from __future__ import annotations

import os
from pathlib import Path

from inference.errors import InvalidSetting, ModelAssetMissing

MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_DIR_ENV = "INFERENCE_MODEL_DIR"
EXPORT_NAME = "sentence-transformers--all-MiniLM-L6-v2-onnx"
PREPARE_COMMAND = "nox -s prepare"
TOKENIZER_FILES = ("tokenizer-settings.json", "vocab.txt")  # tokenizer.json without its vocabulary, and that
MODEL_FILES = ("model.onnx", "model.onnx.data", *TOKENIZER_FILES, "prototypes.json", "manifest.json")
PRECISION_ENV = "INFERENCE_PRECISION"
PRECISIONS = ("fp32", "int8")


def hf_home() -> Path:
    """Resolve HF_HOME the way huggingface_hub does, so every library agrees on one cache root."""
    if "HF_HOME" in os.environ:
        return Path(os.environ["HF_HOME"])
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "huggingface"


def precision() -> str:
    """fp32 (default, parity with torch) or int8 (dynamically quantised: faster, slightly less exact)."""
    value = os.environ.get(PRECISION_ENV, "fp32")
    if value not in PRECISIONS:
        raise InvalidSetting(
            f"${PRECISION_ENV}={value!r} is not one of {', '.join(PRECISIONS)}; unset it for fp32."
        )
    return value


def export_name(precision_: str) -> str:
    return EXPORT_NAME if precision_ == "fp32" else f"{EXPORT_NAME}-{precision_}"


def model_dir() -> Path:
    override = os.environ.get(MODEL_DIR_ENV)
    return Path(override) if override else hf_home() / "exports" / export_name(precision())


def require_file(name: str, directory: Path | None = None) -> Path:
    """Return the path of one model file, or raise one line that names the file, the variable and the fix."""
    path = (directory or model_dir()) / name
    if not path.is_file():
        variable = MODEL_DIR_ENV if MODEL_DIR_ENV in os.environ else "HF_HOME"
        raise ModelAssetMissing(
            f"Model file {path} is missing "
            f"(looked under ${variable}={os.environ.get(variable, '<unset>')}). "
            f"Run `{PREPARE_COMMAND}` to export it, or point ${variable} at the cache root that holds it."
        )
    return path


def model_dir_for(cache_root: Path, precision_: str | None = None) -> Path:
    """The model directory under a given cache root (HF_HOME = <root>/huggingface, as the ENV block sets)."""
    return cache_root / "huggingface" / "exports" / export_name(precision_ or precision())
