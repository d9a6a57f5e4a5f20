"""`python -m lambdakit build` (`nox -s build`): stage the function's build context, then `sam build`.

The context (`build/function/`, the template's `DockerContext`) holds two folders the `Dockerfile` copies:

* `deps/`: the `[packages]` of Pipfile.lock (runtime only), installed here with pip for the Lambda platform
  (hash-checked, wheels only, bytecode compiled, mtime 0). Reinstalled only when the lock changes, so an
  unchanged lock gives an unchanged layer;
* `code/`: the function's packages (every package under `src/` but the kit's), the last and smallest layer.
  A committed file `[tool.lambdakit] assets` names is not copied: the snapshot put it in the asset layer
  (`/cache/code-assets/<path below src>`), and the code layer holds a symlink to it at its code path;
* `Dockerfile`: the project's Dockerfile (the template's Metadata points here), its `CMD` set to
  `[tool.lambdakit] handler` (so a function of its own package touches no kit file), without its asset stage
  (`FROM ${ASSET_IMAGE} AS assets`, `COPY --from=assets`) when the snapshot found nothing to ship.

`sam build --parameter-overrides BaseImage=... AssetImage=... NAME=...` then builds the image: the template's
`DockerBuildArgs` take those parameters (`!Ref`), so the base (LAMBDAKIT_BASE_IMAGE) and the asset image's
content tag are chosen per build without editing template.yaml. Any other build arg is the function's own:
it takes the value of the environment variable of its name when that is set, else its parameter's default.
(The function's run-time settings are its template `Environment`, not build args.)
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from lambdakit import console
from lambdakit.config.target import ARCHITECTURES
from lambdakit.config.template import Template
from lambdakit.console import human_bytes
from lambdakit.core import config, files, lock, proc, runtimes
from lambdakit.core.errors import CommandFailed, ConfigError, ImageBuildFailed, ImageMissing
from lambdakit.core.settings import BASE_IMAGE_ENV, IMAGE_CACHE_ROOT, REPO_ROOT, VERBOSE_ENV, build_dir
from lambdakit.images import assets, baseimage, emulation, engine, hostinstall, pinned, sam

KIT_PACKAGE = "lambdakit"  # lives in src/ beside the function, never ships
SOURCE_DIR = REPO_ROOT / "src"
RUNTIME_CATEGORIES = ("packages",)
TASK_ROOT = (
    "var/task"  # LAMBDA_TASK_ROOT, where Lambda's Python runtime imports the handler and its deps from
)
GLIBC_FLOOR = hostinstall.MANYLINUX_FLOOR
SOURCE_DOCKERFILE = REPO_ROOT / "Dockerfile"  # the kit's one Dockerfile; the build stages it into the context
# The asset stage of the Dockerfile: left out of the staged copy when the function has no asset image.
ASSET_STAGE_RE = re.compile(r"^(FROM\s+\$\{?ASSET_IMAGE\}?\s.*|COPY\s+--from=assets\s.*)\n", re.M)
# The Dockerfile's exec-form CMD: the staged copy names the configured handler there.
CMD_RE = re.compile(r'^CMD\s*\[\s*"([^"]+)"\s*\]', re.M)
# A committed file at least this big in the code layer is re-pushed at every code change: `build` suggests
# moving it into the asset layer (`[tool.lambdakit] assets`).
LARGE_FILE_BYTES = 50 * 1000**2
KIT_BUILD_ARGS = ("BASE_IMAGE", "ASSET_IMAGE")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Staged:
    """What the context holds, as digests of the two folders (equal digests, equal layers)."""

    context: Path
    deps_digest: str
    code_digest: str
    deps_reinstalled: bool


@dataclass(frozen=True)
class WheelPlatform:
    """What pip installs the deps for: the runtime's Python (and the image that compiles its bytecode),
    the newest glibc the REAL Lambda base loads, and the architecture. (Where the function runs, its
    limits and prices, is `config.target.Target`.)"""

    interpreter: hostinstall.Interpreter
    glibc: tuple[int, int] = GLIBC_FLOOR
    architecture: str = "x86_64"

    @property
    def platforms(self) -> list[str]:
        return hostinstall.manylinux_platforms(self.architecture, self.glibc)


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


@dataclass(frozen=True)
class BaseImage:
    """The base image as the engine holds it, inspected once per build (`inspect_base`)."""

    reference: str
    attrs: Mapping[str, Any] | None  # its `docker inspect`; None when the engine does not have it

    @property
    def present(self) -> bool:
        return self.attrs is not None

    @property
    def architecture(self) -> str:
        """Docker's name of its architecture (`amd64`, `arm64`), "" when unknown."""
        return str((self.attrs or {}).get("Architecture") or "")

    @property
    def layer_count(self) -> int:
        return len(((self.attrs or {}).get("RootFS") or {}).get("Layers") or [])

    @property
    def stands_for(self) -> runtimes.Runtime | None:
        """The AWS runtime it is (by its AWS or stand-in tag) or stands in for (the stand-in's label)."""
        labels = ((self.attrs or {}).get("Config") or {}).get("Labels") or {}
        return runtimes.for_image(self.reference, labels.get(runtimes.RUNTIME_LABEL))

    def deprecation_notice(self, today: date | None = None) -> str | None:
        """A warning when it is (or stands in for) a Lambda runtime AWS has deprecated, else None."""
        runtime = self.stands_for
        if runtime is None or not runtime.deprecated(today or date.today()):
            return None
        return runtime.deprecation_notice(self.reference)


def inspect_base(reference: str) -> BaseImage:
    return BaseImage(reference, engine.image_attrs(reference))


def context_dir(tpl: Template) -> Path:
    return (tpl.path.parent / tpl.image.context).resolve()


def stage(
    context: Path,
    platform: WheelPlatform,
    project: config.ProjectConfig,
    source_dir: Path = SOURCE_DIR,
    requirements: Sequence[str] | None = None,
) -> Staged:
    """Write deps/ and code/ into the build context; the Dockerfile's COPY lines read nothing else.

    Each folder holds the full image path (`deps/var/task/...`) with every parent at mtime 0, and is copied
    to `/`: a COPY into an existing folder would stamp that folder with the build's time, and the layer
    digest would change at every build.
    """
    groups = (
        hostinstall.index_groups(requirements)
        if requirements is not None
        else lock.locked_groups(RUNTIME_CATEGORIES)  # each package from the index the lock binds it to
    )
    # one work folder per context, so two contexts never share an install stamp
    key = hashlib.sha256(str(context.resolve()).encode()).hexdigest()[:10]
    work = build_dir() / "function-work" / f"{context.name}-{key}" / "deps"
    deps = context / "deps" / TASK_ROOT
    reinstalled = hostinstall.install(
        deps,
        groups,
        work=work,
        platforms=platform.platforms,
        interpreter=platform.interpreter,
        image_path=f"/{TASK_ROOT}",
    )
    code = context / "code" / TASK_ROOT
    shutil.rmtree(code, ignore_errors=True)  # a package renamed or deleted since the last build must go
    for package in code_packages(source_dir, project):
        hostinstall.copy_package(
            source_dir / package, code / package, f"/{TASK_ROOT}/{package}", platform.interpreter
        )
    link_code_assets(code, config.code_asset_files(project, source_dir))
    hostinstall.normalise_tree(context / "code")
    hostinstall.normalise_parents(deps, context / "deps")
    return Staged(
        context=context,
        deps_digest=hostinstall.tree_digest(context / "deps"),
        code_digest=hostinstall.tree_digest(context / "code"),
        deps_reinstalled=reinstalled,
    )


def link_code_assets(code: Path, files: Sequence[str]) -> None:
    """Replace each file `[tool.lambdakit] assets` names by a symlink into the asset layer (mtime 0, so the
    layer stays reproducible): the function opens it at its code path, its bytes ship with the weights."""
    for relative in files:
        path = code / relative
        if not path.is_file():
            continue  # in a folder of src/ that is not a package: it never ships in the code layer
        path.unlink()
        path.symlink_to(f"{IMAGE_CACHE_ROOT}/{config.code_asset_image_path(relative)}")
        os.utime(path, (0, 0), follow_symlinks=False)


def large_code_files(code: Path, threshold: int = LARGE_FILE_BYTES) -> list[tuple[str, int]]:
    """(path below the code root, bytes) of every regular file in the code layer of at least THRESHOLD."""
    found = []
    for path in sorted(code.rglob("*")):
        if path.is_file() and not path.is_symlink() and (size := path.stat().st_size) >= threshold:
            found.append((path.relative_to(code).as_posix(), size))
    return found


def size_advice(code: Path, threshold: int = LARGE_FILE_BYTES) -> list[str]:
    """One line per large committed file the code layer holds: a code change re-pushes it."""
    return [
        f"src/{relative} ({human_bytes(size)}) ships in the code layer, so every code change re-pushes it: "
        f'add `assets = ["src/{relative}"]` to [tool.lambdakit] in pyproject.toml to move it into the '
        "asset layer (then `nox -s snapshot && nox -s assets`)"
        for relative, size in large_code_files(code, threshold)
    ]


def stage_dockerfile(
    context: Path, dockerfile: Path, with_assets: bool, handler: str, source: Path = SOURCE_DOCKERFILE
) -> Path:
    """Write the project's Dockerfile to DOCKERFILE in the context (its CMD HANDLER, without
    its asset stage unless WITH_ASSETS) and return it. A template that points at the project's Dockerfile
    itself (outside the context) builds from it as it is, which needs an asset image (and its own CMD)."""
    dockerfile = Path(os.path.normpath(dockerfile))
    if not dockerfile.is_relative_to(Path(os.path.normpath(context))):
        if not with_assets:
            raise ConfigError(
                f"the function has no asset image (the snapshot found nothing to ship) but template.yaml's "
                f"Metadata Dockerfile points at {dockerfile}, which has an asset stage: set `Dockerfile: "
                "Dockerfile` (the copy `nox -s build` stages in the DockerContext), or run `nox -s assets`."
            )
        return dockerfile
    text = with_handler(source.read_text(encoding="utf-8"), handler)
    if not with_assets:
        text = ASSET_STAGE_RE.sub("", text)
    dockerfile.parent.mkdir(parents=True, exist_ok=True)
    if not dockerfile.is_file() or dockerfile.read_text(encoding="utf-8") != text:
        dockerfile.write_text(text, encoding="utf-8")
    return dockerfile


def with_handler(text: str, handler: str) -> str:
    """TEXT with its last exec-form CMD naming HANDLER: the handler's one place is [tool.lambdakit], and
    the Dockerfile stays the kit's. (The setting is `module.function` identifiers, checked when read: no
    quote can reach the line.) A Dockerfile without such a CMD is left for `check_handler` to refuse."""
    commands = list(CMD_RE.finditer(text))
    if not commands:
        return text
    last = commands[-1]
    return text[: last.start()] + f'CMD ["{handler}"]' + text[last.end() :]


def code_packages(source_dir: Path, project: config.ProjectConfig) -> list[str]:
    """Every package under src/ but the kit's: the handler's and any helper package of the function's."""
    packages = sorted(
        p.name for p in source_dir.iterdir() if (p / "__init__.py").is_file() and p.name != KIT_PACKAGE
    )
    if project.handler_package not in packages:
        raise ConfigError(
            f"{source_dir} holds no package {project.handler_package!r} for [tool.lambdakit] handler = "
            f"{project.handler!r}: put the function's code in src/{project.handler_package}/ (with an "
            f"__init__.py) or name its handler in pyproject.toml."
        )
    return packages


def function_build_args(tpl: Template) -> dict[str, str]:
    """The template's other build args: the environment variable of the arg's name, else the default."""
    return {
        arg: os.environ.get(arg) or tpl.image.build_args.get(arg, "")
        for arg in tpl.build_arg_parameters
        if arg not in KIT_BUILD_ARGS
    }


def check_handler(dockerfile: Path, handler: str) -> None:
    """The image's CMD must name HANDLER (`[tool.lambdakit] handler`): Lambda calls CMD, the kit's runs call
    the setting."""
    try:
        text = files.read_text(dockerfile, "save it as UTF-8 text and rebuild.")
    except FileNotFoundError:
        raise ConfigError(
            f"{dockerfile} is missing; template.yaml's Metadata names it: restore it or fix "
            "Metadata Dockerfile/DockerContext."
        ) from None
    commands = CMD_RE.findall(text)
    if commands[-1:] != [handler]:
        found = f'CMD ["{commands[-1]}"]' if commands else "no exec-form CMD"
        raise ConfigError(
            f'{dockerfile} has {found} but [tool.lambdakit] handler is {handler!r}: set CMD ["{handler}"] '
            f"as its last line, so the image runs the handler the kit tests."
        )


def wheel_platform(inputs: BuildInputs, base: BaseImage) -> WheelPlatform:
    """What the deps are installed for on BASE: the runtime the inputs carry, with the glibc of the AWS
    runtime's OS (Amazon Linux 2023: 2.34; a stand-in's own Debian glibc is newer, and a wheel that loads
    locally but not on Lambda must be refused here, not found at the first cold start). Bytecode is
    compiled by the base's python3 when the engine has the base."""
    python = inputs.runtime.python
    compiler = compiler_image(base.reference, python, inputs.architecture) if base.present else None
    return WheelPlatform(hostinstall.Interpreter(python, compiler), inputs.runtime.glibc, inputs.architecture)


def documented_platform(runtime: runtimes.Runtime, architecture: str) -> WheelPlatform:
    """The platform of RUNTIME as AWS documents it (no engine needed; bytecode only when the host's Python
    is that version)."""
    return WheelPlatform(hostinstall.Interpreter(runtime.python), runtime.glibc, architecture)


def compiler_image(base: str, python: str, architecture: str) -> str:
    """The image whose python3 compiles the bytecode: BASE, or when BASE runs here only under QEMU (ten times
    slower), the host's stand-in of the same Python: bytecode does not depend on the architecture."""
    if emulation.is_emulated(architecture) and python in runtimes.RUNTIMES:
        sibling = runtimes.RUNTIMES[python].stand_in_tag(emulation.host_architecture())
        if engine.image_exists(sibling):
            return sibling
    return base


def check_base(base: BaseImage, inputs: BuildInputs) -> None:
    """The base must be built (a stand-in) or pullable, of the template's architecture and of the project's
    runtime; a deprecated runtime is warned about."""
    if not base.present:
        if base.reference.startswith("lambdakit/"):
            raise ImageMissing(
                f"The base image {base.reference} is not built; run `nox -s base-image` first."
            )
        log.warning(
            "%s is not in the local engine: Docker will pull it. Offline, run `nox -s base-image` and "
            "`export %s=%s` instead.",
            base.reference,
            BASE_IMAGE_ENV,
            baseimage.stand_in_tag(inputs.runtime.python),
        )
    else:
        check_architecture(base.reference, base.architecture, inputs.architecture, inputs.runtime.python)
        emulation.require(inputs.architecture)  # the bytecode compiler runs the base's python3
    stands_for = base.stands_for
    if stands_for is not None and stands_for != inputs.runtime:
        raise ConfigError(
            f"{base.reference} is the Lambda runtime {stands_for.identifier} but [tool.lambdakit] python "
            f"is {inputs.runtime.python}: use its base ({inputs.runtime.base_image}, offline `nox -s "
            f'base-image`) or set python = "{stands_for.python}" in pyproject.toml.'
        )
    if (notice := base.deprecation_notice()) is not None:
        log.warning(notice)


def check_architecture(base: str, image_architecture: str, architecture: str, python: str) -> None:
    """template.yaml's Architectures and the base image's must agree: the deps are installed for one."""
    expected = ARCHITECTURES[architecture].docker_platform.split("/")[1]
    if image_architecture and image_architecture != expected:
        other = "x86_64" if architecture == "arm64" else "arm64"
        raise ConfigError(
            f"{base} is an {image_architecture} image but template.yaml's Architectures is [{architecture}]: "
            f"use a {architecture} base (offline: `nox -s base-image`, then export {BASE_IMAGE_ENV}="
            f"{baseimage.stand_in_tag(python, architecture)}), or set Architectures to [{other}]."
        )


def deprecation_notice(base: str, today: date | None = None) -> str | None:
    """A warning when the image BASE is (or stands in for) a Lambda runtime AWS has deprecated, else None."""
    return inspect_base(base).deprecation_notice(today)


def resolve_inputs(
    project: config.ProjectConfig,
    tpl: Template,
    base: str | None = None,
    asset: str | None = None,
    architecture: str | None = None,
) -> BuildInputs:
    """The base (BASE, else the project's: LAMBDAKIT_BASE_IMAGE or AWS's) and the asset image at its content
    tag, with the project's runtime and handler and the template's other build args. Without ASSET: the
    local asset image, else the one assets.lock pins for ARCHITECTURE (default: template.yaml's), pulled by
    digest."""
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
    return dataclasses.replace(resolved, asset_image=asset)


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
    extra: Sequence[str] = (),
    base: BaseImage | None = None,
) -> str:
    """Stage the context and run `sam build`; return the local tag SAM gave the image. BASE: the inputs'
    base as `inspect_base` found it (inspected here when not given)."""
    context = context_dir(tpl)
    dockerfile = stage_dockerfile(
        context, context / tpl.image.dockerfile, inputs.asset_image is not None, inputs.handler
    )
    check_handler(dockerfile, inputs.handler)
    base = base or inspect_base(inputs.base_image)
    check_base(base, inputs)
    inputs = assets_for(inputs)
    staged = stage(context, wheel_platform(inputs, base), project)
    for advice in size_advice(staged.context / "code" / TASK_ROOT):
        log.warning(advice)
    log.info(
        "deps %s (%s), code %s; %s",
        "reinstalled" if staged.deps_reinstalled else "unchanged",
        staged.deps_digest[:12],
        staged.code_digest[:12],
        inputs.describe(),
    )
    image = tpl.image.local_image
    try:
        with engine.replacing(image), console.progress(f"sam build {image}") as bar:
            proc.follow(
                sam_build_argv(tpl, inputs, extra),
                "sam build",
                lambda line: sam.show_build_line(line, bar),
                env=sam.environment(),
                cwd=tpl.path.parent,
            )
    except CommandFailed as exc:
        raise ImageBuildFailed(f"{exc} ({VERBOSE_ENV}=1 shows all of sam build's output)") from exc
    return image


def assets_for(inputs: BuildInputs) -> BuildInputs:
    """`sam build` builds for the template's platform, and Docker then refuses a stage image recorded for
    another: the asset image (data only, from `docker import`) gets a tag recorded for the architecture."""
    if inputs.asset_image is None:
        return inputs
    arch = ARCHITECTURES[inputs.architecture].docker_platform.split("/")[1]
    if str(engine.require_image(inputs.asset_image, "run `nox -s assets`").attrs.get("Architecture")) == arch:
        return inputs
    repository, tag = inputs.asset_image.rsplit(":", 1)
    if not engine.image_exists(f"{repository}:{tag}-{arch}"):
        engine.as_architecture(inputs.asset_image, repository, f"{tag}-{arch}", arch)
    return dataclasses.replace(inputs, asset_image=f"{repository}:{tag}-{arch}")


def build_image(
    tag: str,
    inputs: BuildInputs,
    context: Path,
    dockerfile: Path | None = None,
    nocache: bool = False,
) -> str:
    """The same build without SAM (Docker SDK, classic builder), for tests and benchmarks; returns the tag.
    Without DOCKERFILE, the project's is staged into the context (without its asset stage if need be)."""
    check_base(inspect_base(inputs.base_image), inputs)
    dockerfile = dockerfile or stage_dockerfile(
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
