"""Push cost: each side pushed to one fresh local registry, then again after a code-only and a
dependency-only change; whether the weights' layer went up again."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from pathlib import Path

from lambdakit.console import human_bytes
from lambdakit.core.settings import build_dir
from lambdakit.images import engine
from lambdakit.perf import pushcost
from lambdakit.perf.bench.results import BASELINE, KIT, PushCost
from lambdakit.perf.bench.sides import Contender

log = logging.getLogger(__name__)


def pushed_sides(push: str) -> tuple[str, ...]:
    """--push both|kit|baseline|none. Never kit int8: in the one registry it would share the kit's
    dependency and code layers, and its uploads would look smaller than they are."""
    return {"both": (KIT, BASELINE), "kit": (KIT,), "baseline": (BASELINE,)}.get(push, ())


def measure_pushes(contenders: Sequence[Contender], base_layers: dict[str, int]) -> dict[str, PushCost]:
    """Initial push, then a code-only and a dependency-only change, per contender, into one fresh registry."""
    results: dict[str, PushCost] = {}
    work = build_dir() / "bench" / "variants"
    with pushcost.local_registry() as registry:
        for contender in contenders:
            weights = pushcost.weights_layer_index(
                contender.dockerfile, contender.weights_marker, base_layers[contender.name]
            )
            variants = _variants(contender, work)
            pushes = []
            for label, image in variants.items():
                result = pushcost.push(
                    registry, image, f"bench-{contender.name}", label.replace("_", "-"), label, weights
                )
                log.info(
                    "push %s %s: %s in %d/%d layers, weights re-uploaded: %s",
                    contender.name,
                    label,
                    human_bytes(result.bytes_uploaded),
                    result.layers_uploaded,
                    result.layers,
                    result.weights_uploaded,
                )
                pushes.append(result)
            results[contender.name] = PushCost(weights_layer_index=weights, pushes=pushes)
            for image in list(variants.values())[1:]:
                engine.remove_image(image)
    shutil.rmtree(work, ignore_errors=True)
    return results


def _variants(contender: Contender, work: Path) -> dict[str, str]:
    """The image as built, and rebuilt after a code-only and after a dependency-only change.

    The code variant is built before the dependency change is made, as the bench always did: that change
    re-normalises (chmod, utime) the files it shares by hard link with the context. Built in the other
    order, one bench test run saw the code-only push carry the deps layer too.
    """
    code = pushcost.code_change(contender.context, contender.code_file, work / f"{contender.name}-code")
    code_only = _variant(contender, "code", code)
    deps = pushcost.dependency_change(contender.context, contender.deps_dir, work / f"{contender.name}-deps")
    return {
        "initial": contender.image,
        "code_only": code_only,
        "dependency_only": _variant(contender, "deps", deps),
    }


def _variant(contender: Contender, kind: str, context: Path) -> str:
    tag = f"{contender.image.rsplit(':', 1)[0]}:{kind}-change"
    log.info("docker build %s", tag)
    engine.build(context, tag, dockerfile=str(contender.dockerfile), buildargs=contender.build_args)
    return tag
