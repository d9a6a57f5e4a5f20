"""The function image: its inputs resolved once, its context staged (images/staging.py), then `sam build`.

`sam build --parameter-overrides BaseImage=... AssetImage=... NAME=...` builds the image: the template's
`DockerBuildArgs` take those parameters (`!Ref`), so the base (LAMBDAKIT_BASE_IMAGE) and the asset image's
content tag are chosen per build without editing template.yaml. Any other build arg is the function's own:
it takes the value of the environment variable of its name when that is set, else its parameter's default.
(The function's run-time settings are its template `Environment`, not build args.)
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lambdakit import console
from lambdakit.config.target import ARCHITECTURES
from lambdakit.config.template import Template
from lambdakit.core import config, proc, runtimes
from lambdakit.core.errors import CommandFailed, ConfigError, ImageBuildFailed, ImageMissing
from lambdakit.core.settings import VERBOSE_ENV
from lambdakit.images import assets, engine, pinned, platform, sam, staging
from lambdakit.images.platform import BaseImage

KIT_BUILD_ARGS = ("BASE_IMAGE", "ASSET_IMAGE")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildInputs:
    """What the image is built from: the images the Dockerfile starts from, as immutable references (no
    asset image: a function whose snapshot found nothing to ship), the function's own build args, and what
    the project resolved once: the Lambda runtime (the deps' Python and glibc), the architecture and the
    handler the image's CMD names. Nothing below reads them back from the base image's name."""

    base_image: str
    asset_image: str | None
    runtime: runtimes.Runtime
    architecture: str
    handler: str
    function_args: Mapping[str, str] = field(default_factory=dict)

    def build_args(self) -> dict[str, str]:
        assets = {"ASSET_IMAGE": self.asset_image} if self.asset_image else {}
        return {"BASE_IMAGE": self.base_image, **assets, **self.function_args}

    def describe(self) -> str:
        own = "".join(f", {name}={value}" for name, value in sorted(self.function_args.items()))
        return f"base {self.base_image}, assets {self.asset_image or 'none'}{own}"


def function_build_args(tpl: Template) -> dict[str, str]:
    """The template's other build args: the environment variable of the arg's name, else the default."""
    return {
        arg: os.environ.get(arg) or tpl.image.build_args.get(arg, "")
        for arg in tpl.build_arg_parameters
        if arg not in KIT_BUILD_ARGS
    }


def resolve_inputs(
    project: config.ProjectConfig,
    tpl: Template,
    base: str | None = None,
    asset: str | None = None,
    architecture: str | None = None,
) -> BuildInputs:
    """The base (BASE, else the project's: LAMBDAKIT_BASE_IMAGE or AWS's) and the asset image at its content
    tag, recorded for ARCHITECTURE (default: template.yaml's), with the project's runtime and handler and
    the template's other build args. Without ASSET: the local asset image, else the one assets.lock pins
    for the architecture, pulled by digest."""
    resolved = BuildInputs(
        base_image=base or project.base_image,
        asset_image=None,
        runtime=project.runtime,
        architecture=architecture or tpl.target.architecture,
        handler=project.handler,
        function_args=function_build_args(tpl),
    )
    if asset is None and assets.none_recorded():  # the snapshot found nothing to ship: no asset stage
        if project.assets:
            raise ConfigError(
                "[tool.lambdakit] assets names files for the asset image, but the last snapshot recorded "
                "none: run `nox -s snapshot` and `nox -s assets` again."
            )
        return resolved
    if asset is None:
        asset = pinned.resolve(resolved.architecture, project.assets_repository)
        if asset is None:
            raise ImageMissing(
                f"no asset image: none in the local engine and none pinned in assets.lock for "
                f"{resolved.architecture}; run `nox -s snapshot` then `nox -s assets` "
                "(or restore assets.lock)"
            )
    image = engine.require_image(asset, "run `nox -s assets` (after `nox -s snapshot`) to build it")
    sha256 = image.labels.get(assets.SHA256_LABEL)
    if sha256 and asset.endswith(f":{assets.LATEST}"):
        asset = f"{asset.rsplit(':', 1)[0]}:{assets.content_tag(sha256)}"
    recorded = str(image.attrs.get("Architecture"))
    return dataclasses.replace(resolved, asset_image=for_architecture(asset, recorded, resolved.architecture))


def for_architecture(asset: str, recorded: str, architecture: str) -> str:
    """`sam build` builds for the template's platform, and Docker then refuses a stage image recorded for
    another: the asset image (data only, from `docker import`, RECORDED for the host's) gets a tag
    recorded for ARCHITECTURE."""
    arch = ARCHITECTURES[architecture].docker_platform.split("/")[1]
    if recorded == arch:
        return asset
    repository, tag = asset.rsplit(":", 1)
    if not engine.image_exists(f"{repository}:{tag}-{arch}"):
        engine.as_architecture(asset, repository, f"{tag}-{arch}", arch)
    return f"{repository}:{tag}-{arch}"


def sam_build_argv(tpl: Template, inputs: BuildInputs, extra: Sequence[str] = ()) -> list[str]:
    args = inputs.build_args()  # a build arg it does not set keeps its parameter's default
    overrides = {
        param: args[arg] for arg, param in tpl.build_arg_parameters.items() if arg in args
    } | tpl.kit_parameters
    return [
        sam.executable(),
        "build",
        "--template-file",
        str(tpl.path),
        *sam.parameter_overrides(overrides),
        *extra,
    ]


def build(
    project: config.ProjectConfig,
    tpl: Template,
    inputs: BuildInputs,
    base: BaseImage,
    extra: Sequence[str] = (),
) -> str:
    """Check the base (BASE: `platform.inspect`'s of the inputs' base), stage the context, run `sam build`;
    return the local tag SAM gave the image."""
    wheels = platform.for_build(base, inputs.runtime, inputs.architecture)
    folder = staging.context_dir(tpl)
    dockerfile = staging.stage_dockerfile(
        folder, folder / tpl.image.dockerfile, inputs.asset_image is not None, inputs.handler
    )
    staging.check_handler(dockerfile, inputs.handler)
    staged = staging.stage(folder, wheels, project)
    for advice in staged.advice:
        log.warning(advice)
    log.info(
        "deps %s (%s), code %s; %s",
        "reinstalled" if staged.deps_reinstalled else "unchanged",
        staged.deps_digest[:12],
        staged.code_digest[:12],
        inputs.describe(),
    )
    argv = sam_build_argv(tpl, inputs, extra)
    image = tpl.image.local_image
    try:
        with engine.replacing(image), console.progress(f"sam build {image}") as bar:
            proc.follow(
                argv,
                "sam build",
                lambda line: sam.show_build_line(line, bar),
                env=sam.environment(),
                cwd=tpl.path.parent,
            )
    except CommandFailed as exc:
        raise ImageBuildFailed(f"{exc} ({VERBOSE_ENV}=1 shows all of sam build's output)") from exc
    return image


def wheel_platform(inputs: BuildInputs) -> platform.WheelPlatform:
    """What pip installs the deps for on the inputs' base (for `build_image`, which checks the base)."""
    return platform.wheel_platform(platform.inspect(inputs.base_image), inputs.runtime, inputs.architecture)


def build_image(
    tag: str,
    inputs: BuildInputs,
    context: Path,
    dockerfile: Path | None = None,
    nocache: bool = False,
) -> str:
    """The same build without SAM (Docker SDK, classic builder), for tests and benchmarks; returns the tag.
    Without DOCKERFILE, the project's is staged into the context (without its asset stage if need be)."""
    platform.check(platform.inspect(inputs.base_image), inputs.runtime, inputs.architecture)
    dockerfile = dockerfile or staging.stage_dockerfile(
        context, context / "Dockerfile", inputs.asset_image is not None, inputs.handler
    )
    engine.build(
        context,
        tag,
        dockerfile=str(dockerfile),
        buildargs=inputs.build_args(),
        nocache=nocache,
    )
    return tag


FUNCTION_LAYERS = ("assets", "deps", "code")  # the Dockerfile's COPY layers above the base, in order


def layer_table(tag: str, base: BaseImage | None = None) -> list[tuple[str, str, int]]:
    """(role, short digest, bytes) per layer: the base's layers (BASE as inspected), then assets, deps and
    code."""
    layers = engine.layers(tag)
    base_count = base.layer_count if base else 0
    top = len(layers) - base_count
    roles = ["base"] * base_count + list(
        FUNCTION_LAYERS[-top:] if 0 < top <= len(FUNCTION_LAYERS) else [""] * top
    )
    return [
        (role or layer.created_by, layer.diff_id.split(":")[-1][:12], layer.size)
        for role, layer in zip(roles, layers, strict=True)
    ]
