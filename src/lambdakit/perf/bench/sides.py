"""The images the bench compares (the kit, the torch baseline, the kit with int8) and their sizes."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lambdakit.config.template import Template
from lambdakit.core import config
from lambdakit.core import events as events_reader
from lambdakit.core.errors import ConfigError
from lambdakit.core.settings import REPO_ROOT, build_dir
from lambdakit.images import build, engine, staging
from lambdakit.perf import baseline, pushcost, quantized
from lambdakit.perf.bench.results import BASELINE, KIT, KIT_INT8, ImageSizes

log = logging.getLogger(__name__)

TAG_PREFIX = "lambdakit-bench"
SINGLE_EVENT = {"text": "I was charged twice this month"}
BATCH_EVENT = {
    "texts": [
        "The app crashes every time I try to upload a photo from my gallery.",
        "I forgot my password and the reset e-mail never arrives.",
        "My order #48213 was supposed to arrive on Monday and the tracking has not moved since.",
        "Would love an export-to-CSV button on the reports page!",
        "Please cancel my plan at the end of this billing period.",
        "Why is there a second charge of 49.99 on my card?",
        "Mon colis n'est jamais arrivé 📦",
        "hi",
    ]
}
# What threads the CPU quota pays for (Lambda and `docker --cpus` throttle threads beyond it): the cgroup's
# quota, capped by the CPUs the process may run on. The kit's own probe, whatever the function: it names no
# module of the function (the demo sizes its thread pools the same way).
THREAD_PROBE_SOURCE = """
import math, os
cpus = len(os.sched_getaffinity(0))
try:
    quota, period = open("/sys/fs/cgroup/cpu.max").read().split()[:2]
    quota = None if quota == "max" else int(quota) / int(period)
except (OSError, ValueError):
    try:
        quota_us = int(open("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read())
        period_us = int(open("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read())
        quota = quota_us / period_us if quota_us > 0 else None
    except (OSError, ValueError):
        quota = None
print(max(1, min(cpus, math.ceil(quota))) if quota else cpus)
"""
THREAD_PROBE = ["python3", "-c", THREAD_PROBE_SOURCE]


@dataclass(frozen=True)
class Contender:
    """One side of the bench: its image, build context and where its weights and code live."""

    name: str
    image: str
    context: Path
    dockerfile: Path
    code_file: str
    deps_dir: str
    weights_marker: str
    thread_probe: list[str]
    build_args: dict[str, str]
    base: str
    # set at run time over the template's Environment, as a deployed variable would be (int8: the precision)
    environment: dict[str, str] = field(default_factory=dict)


def pin_base(base: str, prefix: str) -> str:
    """Tag the base under the bench's own name: every image of one run builds on the same base even if the
    shared tag is rebuilt meanwhile (the push figures would otherwise count new base layers)."""
    engine.require_image(base, "run `nox -s base-image` (or pull the AWS base)")
    engine.tag_image(base, f"{prefix}/base", "pinned")
    return f"{prefix}/base:pinned"


def bench_events(demo: bool, repo: Path = REPO_ROOT) -> tuple[Any, Any]:
    """(single, batch): the demo's bench texts, or the project's own sample events."""
    if demo:
        return SINGLE_EVENT, BATCH_EVENT
    events = sorted((repo / "events").glob("*.json"))
    if not events:
        raise ConfigError(f"no sample events in {repo / 'events'}: the bench sends them to the function.")
    by_name = {path.stem: path for path in events}
    single = by_name.get("single", events[0])
    batch = by_name.get("batch", single)
    return events_reader.read(single), events_reader.read(batch)


def handler_file(project: config.ProjectConfig) -> str:
    """The handler's module under the code layer's package folder (`inference/handler.py`)."""
    return "/".join(project.handler_module.split(".")) + ".py"


def build_contenders(
    project: config.ProjectConfig,
    tpl: Template,
    base: str,
    prefix: str = TAG_PREFIX,
    asset: str | None = None,
    quantize: bool = False,
    int8_asset: str | None = None,
) -> list[Contender]:
    """Build (or reuse through Docker's cache) the kit's function image and the baseline, on one base;
    with QUANTIZE, the kit's image again on the int8 asset image, run with INFERENCE_PRECISION=int8.
    The kit's side has no asset stage when the snapshot found nothing to ship."""
    demo = baseline.applies()
    kit = build_kit(project, tpl, base, prefix, asset)
    contenders = [kit]
    if not demo:
        log.info("no baseline: src/inference is not the demo, so the bench measures your function alone")
    else:
        contenders.append(build_baseline(base, prefix))
    if quantize:
        contenders.append(build_int8(project, tpl, kit, base, prefix, int8_asset))
    return contenders


def build_kit(
    project: config.ProjectConfig, tpl: Template, base: str, prefix: str, asset: str | None
) -> Contender:
    architecture = tpl.target.architecture
    inputs = build.resolve_inputs(project, tpl, base=base, asset=asset, architecture=architecture)
    tag = f"{prefix}/kit:latest"
    # A context of the bench's own, so a bench never races `nox -s build` over build/function/.
    context = build_dir() / "bench" / "kit-context"
    staged = staging.stage(context=context, wheels=build.wheel_platform(inputs), project=project)
    log.info("docker build %s (base %s, assets %s)", tag, inputs.base_image, inputs.asset_image)
    build.build_image(tag, inputs, context=staged.context)
    return Contender(
        name=KIT,
        image=tag,
        context=staged.context,
        dockerfile=staged.context / "Dockerfile",  # the project's, as build_image staged it
        code_file=_relative_file(staged.context / "code", handler_file(project)),
        deps_dir=_deepest_single_path(staged.context, "deps"),
        weights_marker=r"--from",
        thread_probe=THREAD_PROBE,
        build_args=inputs.build_args(),
        base=base,
    )


def build_baseline(base: str, prefix: str) -> Contender:
    baseline_base = pin_base(baseline.base_for(base), f"{prefix}/baseline")
    tag = baseline.build(baseline_base, tag=f"{prefix}/baseline:latest")
    return Contender(
        name=BASELINE,
        image=tag,
        context=baseline.stage().context,
        dockerfile=baseline.BASELINE_DIR / "Dockerfile",
        code_file="code/app.py",
        deps_dir="deps",
        weights_marker=r"\bmodel/",
        thread_probe=["python3", "-c", "import torch; print(torch.get_num_threads())"],
        build_args={"BASE_IMAGE": baseline_base},
        base=baseline_base,
    )


def build_int8(
    project: config.ProjectConfig, tpl: Template, kit: Contender, base: str, prefix: str, asset: str | None
) -> Contender:
    """The kit's image on the int8 asset image, its environment selecting int8 (over the template's
    Environment, as a deployed variable would): same deps and code layers."""
    asset = asset or quantized.asset_image(f"{prefix}-int8-assets")
    inputs = build.resolve_inputs(project, tpl, base=base, asset=asset)
    tag = f"{prefix}/kit-int8:latest"
    log.info("docker build %s (%s)", tag, inputs.describe())
    build.build_image(tag, inputs, context=kit.context)
    environment = {quantized.PRECISION_ARG: quantized.INT8}
    return replace(kit, name=KIT_INT8, image=tag, build_args=inputs.build_args(), environment=environment)


def image_sizes(contender: Contender) -> ImageSizes:
    """Total size, size above the base image, each layer above the base, and the weights' layer."""
    image = engine.require_image(contender.image, "build it first")
    base = engine.require_image(contender.base, "run `nox -s base-image` (or pull the base)")
    base_layers = len(base.attrs["RootFS"]["Layers"])
    layers = engine.layers(contender.image)
    weights = pushcost.weights_layer_index(contender.dockerfile, contender.weights_marker, base_layers)
    return ImageSizes(
        total_bytes=int(image.attrs["Size"]),
        base_bytes=int(base.attrs["Size"]),
        base_layers=base_layers,
        layers_above_base=layers[base_layers:],
        weights_bytes=layers[weights].size if weights is not None and weights < len(layers) else None,
    )


def _relative_file(root: Path, suffix: str) -> str:
    """The path (relative to root's parent) of the one file under ROOT that ends with SUFFIX."""
    for path in sorted(root.rglob(Path(suffix).name)):
        if path.as_posix().endswith(suffix):
            return path.relative_to(root.parent).as_posix()
    raise ConfigError(f"No {suffix} under {root}: the kit's build context changed shape; rebuild it.")


def _deepest_single_path(context: Path, folder: str) -> str:
    """deps/ may hold the image path (deps/var/task/...): follow single sub-folders down to the packages."""
    path = context / folder
    while True:
        children = list(path.iterdir())
        if len(children) != 1 or not children[0].is_dir():
            return path.relative_to(context).as_posix()
        path = children[0]
