"""`python -m lambdakit build` (`nox -s build`): stage the function's build context, then `sam build`.

The context (`build/function/`, the template's `DockerContext`) holds two folders the `Dockerfile` copies:

* `deps/`: the `[packages]` of Pipfile.lock (runtime only), installed here with pip for the Lambda platform
  (hash-checked, wheels only, bytecode compiled, mtime 0). Reinstalled only when the lock changes, so an
  unchanged lock gives an unchanged layer;
* `code/`: the function's package (`src/inference`), the last and smallest layer.

`sam build --parameter-overrides BaseImage=... AssetImage=... InferencePrecision=...` then builds the image:
the template's `DockerBuildArgs` take those parameters (`!Ref`), so the base (LAMBDAKIT_BASE_IMAGE), the asset
image's content tag and the model precision (INFERENCE_PRECISION, baked into the image's environment) are
chosen per build without editing template.yaml.
"""

from __future__ import annotations

import argparse
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from inference import paths
from lambdakit.config import template
from lambdakit.core import lock, proc
from lambdakit.core.errors import CommandFailed, ConfigError, ImageBuildFailed, ImageMissing
from lambdakit.core.settings import BASE_IMAGE_ENV, IMAGE_CACHE_ROOT, REPO_ROOT, base_image, build_dir
from lambdakit.images import assets, baseimage, engine, hostinstall, sam

CODE_PACKAGES = ("inference",)
SOURCE_DIR = REPO_ROOT / "src"
RUNTIME_CATEGORIES = ("packages",)
TASK_ROOT = (
    "var/task"  # LAMBDA_TASK_ROOT, where Lambda's Python runtime imports the handler and its deps from
)
GLIBC_FLOOR = hostinstall.MANYLINUX_FLOOR
# glibc of base images that may not be pulled yet: AWS's python3.11 runs on Amazon Linux 2, 3.12+ on AL2023.
KNOWN_GLIBC = {
    "public.ecr.aws/lambda/python:3.11": (2, 26),
    "public.ecr.aws/lambda/python:3.12": (2, 34),
    "public.ecr.aws/lambda/python:3.13": (2, 34),
}
PRECISION_ARG = paths.PRECISION_ENV  # the Dockerfile's build arg, turned into the variable of that name
GLIBC_PROBE = "import os; print(os.confstr('CS_GNU_LIBC_VERSION'))"

Log = Callable[[str], None]


@dataclass(frozen=True)
class Staged:
    """What the context holds, as digests of the two folders (equal digests, equal layers)."""

    context: Path
    deps_digest: str
    code_digest: str
    deps_reinstalled: bool


@dataclass(frozen=True)
class BuildInputs:
    """The two images the Dockerfile starts from, as immutable references, and the model precision the
    image's environment selects (its asset image must hold that precision's export)."""

    base_image: str
    asset_image: str
    precision: str = "fp32"

    def build_args(self) -> dict[str, str]:
        return {
            "BASE_IMAGE": self.base_image,
            "ASSET_IMAGE": self.asset_image,
            PRECISION_ARG: self.precision,
        }


def context_dir(template_path: Path = template.TEMPLATE) -> Path:
    return (template_path.parent / template.image_settings(template_path).context).resolve()


def stage(
    context: Path | None = None,
    architecture: str | None = None,
    glibc: tuple[int, int] = GLIBC_FLOOR,
    source_dir: Path = SOURCE_DIR,
    requirements: Sequence[str] | None = None,
    log: Log = print,
) -> Staged:
    """Write deps/ and code/ into the build context; the Dockerfile's COPY lines read nothing else.

    Each folder holds the full image path (`deps/var/task/...`) with every parent at mtime 0, and is copied
    to `/`: a COPY into an existing folder would stamp that folder with the build's time, and the layer
    digest would change at every build.
    """
    context = context or context_dir()
    architecture = architecture or template.limits().architecture
    requirements = (
        list(requirements) if requirements is not None else lock.locked_requirements(RUNTIME_CATEGORIES)
    )
    # one work folder per context, so two contexts never share an install stamp
    key = hashlib.sha256(str(context.resolve()).encode()).hexdigest()[:10]
    work = build_dir() / "function-work" / f"{context.name}-{key}" / "deps"
    platforms = hostinstall.manylinux_platforms(architecture, glibc)
    deps = context / "deps" / TASK_ROOT
    reinstalled = hostinstall.install(
        deps, requirements, work=work, platforms=platforms, log=log, image_path=f"/{TASK_ROOT}"
    )
    code = context / "code" / TASK_ROOT
    for package in CODE_PACKAGES:
        hostinstall.copy_package(source_dir / package, code / package, f"/{TASK_ROOT}/{package}")
    hostinstall.normalise_tree(context / "code")
    hostinstall.normalise_parents(deps, context / "deps")
    return Staged(
        context=context,
        deps_digest=hostinstall.tree_digest(context / "deps"),
        code_digest=hostinstall.tree_digest(context / "code"),
        deps_reinstalled=reinstalled,
    )


def base_glibc(base: str) -> tuple[int, int]:
    """The base image's glibc, which decides the newest manylinux wheels it can load (asked of the image)."""
    if not engine.image_exists(base):
        return KNOWN_GLIBC.get(base, GLIBC_FLOOR)
    output = engine.run_once(base, ["python3", "-c", GLIBC_PROBE])
    return parse_glibc(output) or KNOWN_GLIBC.get(base, GLIBC_FLOOR)


def parse_glibc(text: str) -> tuple[int, int] | None:
    """`glibc 2.36` → (2, 36)."""
    match = re.search(r"glibc (\d+)\.(\d+)", text)
    return (int(match.group(1)), int(match.group(2))) if match else None


def resolve_inputs(
    base: str | None = None, asset: str | None = None, precision: str | None = None
) -> BuildInputs:
    """The base (LAMBDAKIT_BASE_IMAGE or AWS's) and the asset image at its content tag, both checked;
    the precision is $INFERENCE_PRECISION's (fp32 unless set), the variable the snapshot ran with."""
    precision = precision or paths.precision()
    base = base or base_image()
    asset = asset or f"{assets.repository_name()}:{assets.LATEST}"
    image = engine.require_image(asset, "run `nox -s assets` (after `nox -s snapshot`) to build it")
    sha256 = image.labels.get(assets.SHA256_LABEL)
    if sha256 and asset.endswith(f":{assets.LATEST}"):
        asset = f"{asset.rsplit(':', 1)[0]}:{assets.content_tag(sha256)}"
    check_precision(asset, precision)
    return BuildInputs(base_image=base, asset_image=asset, precision=precision)


def export_manifest(precision: str) -> str:
    """A precision's model manifest in the asset and function images (HF_HOME=/cache/huggingface)."""
    return f"{IMAGE_CACHE_ROOT}/huggingface/exports/{paths.export_name(precision)}/manifest.json"


def check_precision(asset: str, precision: str) -> None:
    """The image's INFERENCE_PRECISION must find its export in the asset image: refuse the build otherwise
    (a fp32 image on int8 assets would only fail at its first cold start, on Lambda)."""
    if engine.read_file(asset, export_manifest(precision)) is None:
        raise ConfigError(precision_mismatch(asset, precision))


def precision_mismatch(asset: str, precision: str) -> str:
    return (
        f"{asset} holds no {precision} model ({export_manifest(precision)}), so an image built with "
        f"{PRECISION_ARG}={precision} would not start. Set {PRECISION_ARG} to the precision the snapshot "
        f"ran with, or run `nox -s snapshot` and `nox -s assets` again with {PRECISION_ARG}={precision}."
    )


def sam_build_argv(template_path: Path, inputs: BuildInputs, extra: Sequence[str] = ()) -> list[str]:
    overrides = {
        param: inputs.build_args()[arg] for arg, param in template.build_arg_parameters(template_path).items()
    }
    return [
        sam.executable(),
        "build",
        "--template-file",
        str(template_path),
        *sam.parameter_overrides(overrides),
        *extra,
    ]


def build(
    template_path: Path = template.TEMPLATE,
    inputs: BuildInputs | None = None,
    extra: Sequence[str] = (),
    log: Log = print,
) -> str:
    """Stage the context and run `sam build`; return the local tag SAM gave the image."""
    inputs = inputs or resolve_inputs()
    _check_base(inputs.base_image, log)
    glibc = base_glibc(inputs.base_image)
    staged = stage(context_dir(template_path), template.limits(template_path).architecture, glibc, log=log)
    log(
        f"deps {'reinstalled' if staged.deps_reinstalled else 'unchanged'} ({staged.deps_digest[:12]}), "
        f"code {staged.code_digest[:12]}; base {inputs.base_image}, assets {inputs.asset_image}, "
        f"{inputs.precision}"
    )
    try:
        proc.run(
            sam_build_argv(template_path, inputs, extra),
            "sam build",
            env=sam.environment(),
            cwd=template_path.parent,
            capture=False,
        )
    except CommandFailed as exc:
        raise ImageBuildFailed(f"{exc} (sam build's output is above)") from exc
    return template.image_settings(template_path).local_image


def build_image(
    tag: str,
    inputs: BuildInputs,
    context: Path | None = None,
    dockerfile: Path | None = None,
    nocache: bool = False,
    log: Log | None = None,
) -> str:
    """The same build without SAM (Docker SDK, classic builder), for tests and benchmarks; returns the tag."""
    context = context or context_dir()
    _check_base(inputs.base_image)
    engine.build(
        context,
        tag,
        dockerfile=str(dockerfile or REPO_ROOT / "Dockerfile"),
        buildargs=inputs.build_args(),
        nocache=nocache,
        log=log,
    )
    return tag


def _check_base(base: str, log: Log | None = None) -> None:
    if engine.image_exists(base):
        return
    if base.startswith("lambdakit/"):
        raise ImageMissing(f"The base image {base} is not built; run `nox -s base-image` first.")
    if log is not None:
        log(
            f"{base} is not in the local engine: Docker will pull it. Offline, run `nox -s base-image` and "
            f"`export {BASE_IMAGE_ENV}={baseimage.TAG}` instead."
        )


FUNCTION_LAYERS = ("assets", "deps", "code")  # the Dockerfile's COPY layers above the base, in order


def layer_table(tag: str, base: str | None = None) -> list[tuple[str, str, int]]:
    """(role, short digest, bytes) per layer: the base's layers, then assets, deps and code."""
    layers = engine.layers(tag)
    base_count = len(engine.layers(base)) if base and engine.image_exists(base) else 0
    top = len(layers) - base_count
    roles = ["base"] * base_count + list(
        FUNCTION_LAYERS[-top:] if 0 < top <= len(FUNCTION_LAYERS) else [""] * top
    )
    return [
        (role or layer.created_by, layer.diff_id.split(":")[-1][:12], layer.size)
        for role, layer in zip(roles, layers, strict=True)
    ]


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m lambdakit build", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--base-image", default=None, help=f"default: ${BASE_IMAGE_ENV} or AWS's Python 3.11 image"
    )
    parser.add_argument("--asset-image", default=None, help="default: <project>-assets at its content tag")
    parser.add_argument("--stage-only", action="store_true", help="write build/function/ and stop")
    args, extra = parser.parse_known_args(argv)
    if args.stage_only:
        staged = stage()
        print(f"staged {staged.context} (deps {staged.deps_digest[:12]}, code {staged.code_digest[:12]})")
        return 0
    inputs = resolve_inputs(args.base_image, args.asset_image)
    tag = build(inputs=inputs, extra=extra)
    print(f"\nfunction image {tag} (base {inputs.base_image}, {PRECISION_ARG}={inputs.precision}):")
    rows = layer_table(tag, inputs.base_image)
    for role, digest, size in rows:
        print(f"  {role:<8} {digest}  {size / 1e6:9.1f} MB")
    above = sum(size for role, _, size in rows if role != "base")
    print(f"  total {sum(size for *_, size in rows) / 1e6:.1f} MB, above the base {above / 1e6:.1f} MB")
    return 0
