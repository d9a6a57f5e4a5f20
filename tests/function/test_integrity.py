"""The function refuses, at init, model files whose sha256 is not the recorded one."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from blake3 import blake3

from inference import integrity, paths
from inference.errors import ModelIntegrityError
from inference.pipeline import Pipeline

pytestmark = pytest.mark.model

REPO = Path(__file__).resolve().parents[2]


def copy_model(model_dir: Path, cache_root: Path) -> Path:
    """The prepared model under a cache root of its own, laid out as in the image."""
    target = paths.model_dir_for(cache_root)
    shutil.copytree(model_dir, target)
    return target


def flip_bytes(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset : offset + 16] = bytes(255 - b for b in data[offset : offset + 16])
    path.write_bytes(bytes(data))


def write_sums(cache_root: Path) -> None:
    """A SHA256SUMS like the kit's snapshot ships: every file, relative to the cache root."""
    lines = [
        f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.relative_to(cache_root).as_posix()}"
        for path in sorted(cache_root.rglob("*"))
        if path.is_file() and path.name != integrity.SUMS_NAME
    ]
    (cache_root / integrity.SUMS_NAME).write_text("\n".join(lines) + "\n")


def test_flipped_weights_are_refused_against_the_models_manifest(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(integrity.CACHE_ROOT_ENV, str(tmp_path))  # no SHA256SUMS: the dev loop's case
    directory = copy_model(model_dir, tmp_path)
    flip_bytes(directory / "model.onnx.data", 1_000_000)
    with pytest.raises(ModelIntegrityError, match=r"model\.onnx\.data has blake3 .*manifest\.json records"):
        Pipeline.load(directory)


def test_a_changed_vocabulary_is_refused(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # vocab.txt is read by tokenizers from its path, after the check: the check must still cover it
    monkeypatch.setenv(integrity.CACHE_ROOT_ENV, str(tmp_path))
    directory = copy_model(model_dir, tmp_path)
    flip_bytes(directory / "vocab.txt", 100_000)
    with pytest.raises(ModelIntegrityError, match=r"vocab\.txt has blake3 .*manifest\.json records"):
        Pipeline.load(directory)


def test_flipped_weights_are_refused_in_the_image_layout(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the image's layout: SHA256SUMS vouches for manifest.json, whose BLAKE3 vouches for the weights
    monkeypatch.setenv(integrity.CACHE_ROOT_ENV, str(tmp_path))
    directory = copy_model(model_dir, tmp_path)
    write_sums(tmp_path)
    flip_bytes(directory / "model.onnx.data", 50_000_000)
    with pytest.raises(
        ModelIntegrityError, match=r"model\.onnx\.data has blake3 .*manifest\.json records .*nox -s snapshot"
    ):
        Pipeline.load(directory)


def test_a_manifest_without_blake3_still_gets_every_file_checked_by_sha256(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(integrity.CACHE_ROOT_ENV, str(tmp_path))
    directory = copy_model(model_dir, tmp_path)
    manifest = json.loads((directory / "manifest.json").read_text())
    del manifest[integrity.BLAKE3_TABLE]  # as an older prepare wrote it
    (directory / "manifest.json").write_text(json.dumps(manifest))
    assert Pipeline.load(directory).predict(["I was charged twice"])[0]["label"] == "billing"
    flip_bytes(directory / "model.onnx.data", 1_000_000)
    with pytest.raises(ModelIntegrityError, match=r"model\.onnx\.data has sha256 .*manifest\.json records"):
        Pipeline.load(directory)


def test_the_manifest_records_the_blake3_and_sha256_of_every_model_file(model_dir: Path) -> None:
    manifest = json.loads((model_dir / "manifest.json").read_text())
    names = sorted(name for name in paths.MODEL_FILES if name != "manifest.json")
    assert sorted(manifest["files"]) == sorted(manifest[integrity.BLAKE3_TABLE]) == names
    for name in names:
        data = (model_dir / name).read_bytes()
        assert manifest[integrity.BLAKE3_TABLE][name] == blake3(data).hexdigest()
        assert manifest["files"][name] == hashlib.sha256(data).hexdigest()


def test_shipped_sums_vouch_for_every_file_including_the_manifest(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(integrity.CACHE_ROOT_ENV, str(tmp_path))
    directory = copy_model(model_dir, tmp_path)
    write_sums(tmp_path)
    assert Pipeline.load(directory).predict(["I was charged twice"])[0]["label"] == "billing"
    # a manifest.json rewritten after the snapshot is caught, although it is its own reference
    (directory / "manifest.json").write_text((directory / "manifest.json").read_text() + " ")
    with pytest.raises(
        ModelIntegrityError, match=r"manifest\.json has sha256 .*SHA256SUMS records .*nox -s snapshot"
    ):
        Pipeline.load(directory)


def test_a_file_missing_from_the_shipped_sums_is_refused(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(integrity.CACHE_ROOT_ENV, str(tmp_path))
    directory = copy_model(model_dir, tmp_path)
    write_sums(tmp_path)
    sums = tmp_path / integrity.SUMS_NAME
    sums.write_text("".join(line for line in sums.read_text().splitlines(True) if "tokenizer" not in line))
    with pytest.raises(ModelIntegrityError, match=r"tokenizer-settings\.json is not listed in .*SHA256SUMS"):
        Pipeline.load(directory)


def test_local_run_reports_corrupt_weights_in_one_line(model_dir: Path, tmp_path: Path) -> None:
    directory = copy_model(model_dir, tmp_path)
    flip_bytes(directory / "model.onnx.data", 4096)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), paths.MODEL_DIR_ENV: str(directory)}
    result = subprocess.run(
        [sys.executable, "-m", "inference", "--text", "hi"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 2 and result.stdout == ""
    line = result.stderr.strip()
    assert "\n" not in line and "model.onnx.data has blake3" in line and "nox -s prepare -- --force" in line
