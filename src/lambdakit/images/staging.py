"""Staging the function's build context (`build/function/`, the template's `DockerContext`) for `sam build`.

It holds two folders the `Dockerfile` copies:

* `deps/`: the `[packages]` of Pipfile.lock (runtime only), installed here with pip for the Lambda platform
  (hash-checked, wheels only, bytecode compiled, mtime 0). Reinstalled only when the lock changes, so an
  unchanged lock gives an unchanged layer;
* `code/`: the function's packages (every package under `src/` but the kit's), the last and smallest layer.
  A committed file `[tool.lambdakit] assets` names is not copied: the snapshot put it in the asset layer
  (`/cache/code-assets/<path below src>`), and the code layer holds a symlink to it at its code path;
* `Dockerfile`: the project's Dockerfile (the template's Metadata points here), its `CMD` set to
  `[tool.lambdakit] handler` (so a function of its own package touches no kit file), without its asset stage
  (`FROM ${ASSET_IMAGE} AS assets`, `COPY --from=assets`) when the snapshot found nothing to ship.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import shutil
from collections.abc import Sequence, Set
from dataclasses import dataclass
from pathlib import Path

from lambdakit.config.template import Template
from lambdakit.console import human_bytes
from lambdakit.core import config, files, lock
from lambdakit.core.errors import ConfigError
from lambdakit.core.settings import IMAGE_CACHE_ROOT, REPO_ROOT, build_dir
from lambdakit.images import hostinstall
from lambdakit.images.hostinstall import COPY_IGNORED
from lambdakit.images.platform import WheelPlatform

KIT_PACKAGE = "lambdakit"  # lives in src/ beside the function, never ships
SOURCE_DIR = REPO_ROOT / "src"
RUNTIME_CATEGORIES = ("packages",)
TASK_ROOT = (
    "var/task"  # LAMBDA_TASK_ROOT, where Lambda's Python runtime imports the handler and its deps from
)
SOURCE_DOCKERFILE = REPO_ROOT / "Dockerfile"  # the kit's one Dockerfile; the build stages it into the context
# The asset stage of the Dockerfile: left out of the staged copy when the function has no asset image.
ASSET_STAGE_RE = re.compile(r"^(FROM\s+\$\{?ASSET_IMAGE\}?\s.*|COPY\s+--from=assets\s.*)\n", re.M)
# The Dockerfile's exec-form CMD: the staged copy names the configured handler there.
CMD_RE = re.compile(r'^CMD\s*\[\s*"([^"]+)"\s*\]', re.M)
# A committed file at least this big in the code layer is re-pushed at every code change: `build` suggests
# moving it into the asset layer (`[tool.lambdakit] assets`).
LARGE_FILE_BYTES = 50 * 1000**2


@dataclass(frozen=True)
class Staged:
    """What the context holds, as digests of the two folders (equal digests, equal layers)."""

    context: Path
    deps_digest: str
    code_digest: str
    deps_reinstalled: bool
    advice: tuple[str, ...] = ()  # one line per large committed file the code layer holds (`size_advice`)


def context_dir(tpl: Template) -> Path:
    return (tpl.path.parent / tpl.image.context).resolve()


def stage(
    context: Path,
    wheels: WheelPlatform,
    project: config.ProjectConfig,
    source_dir: Path = SOURCE_DIR,
    requirements: Sequence[str] | None = None,
) -> Staged:
    """Write deps/ and code/ into the build context; the Dockerfile's COPY lines read nothing else.

    Each folder holds the full image path (`deps/var/task/...`) with every parent at mtime 0, and is copied
    to `/`: a COPY into an existing folder would stamp that folder with the build's time, and the layer
    digest would change at every build.
    """
    packages = code_packages(source_dir, project)
    links = code_asset_links(config.code_asset_files(project, source_dir))
    advice = size_advice(source_dir, packages, set(links))
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
        platforms=wheels.platforms,
        interpreter=wheels.interpreter,
        image_path=f"/{TASK_ROOT}",
    )
    code = context / "code" / TASK_ROOT
    shutil.rmtree(code, ignore_errors=True)  # a package renamed or deleted since the last build must go
    for package in packages:
        own = {
            path.removeprefix(f"{package}/"): to
            for path, to in links.items()
            if path.startswith(f"{package}/")
        }
        hostinstall.copy_package(
            source_dir / package, code / package, f"/{TASK_ROOT}/{package}", wheels.interpreter, own
        )
    hostinstall.normalise_tree(context / "code")
    hostinstall.normalise_parents(deps, context / "deps")
    return Staged(
        context=context,
        deps_digest=hostinstall.tree_digest(context / "deps"),
        code_digest=hostinstall.tree_digest(context / "code"),
        deps_reinstalled=reinstalled,
        advice=tuple(advice),
    )


def code_asset_links(files: Sequence[str]) -> dict[str, str]:
    """Each file `[tool.lambdakit] assets` names (below src/) → the symlink into the asset layer that
    replaces it in the code layer: the function opens it at its code path, its bytes ship with the weights.
    (A file in a folder of src/ that is not a package never ships in the code layer at all.)"""
    return {relative: f"{IMAGE_CACHE_ROOT}/{config.code_asset_image_path(relative)}" for relative in files}


def large_code_files(
    source: Path, packages: Sequence[str], linked: Set[str] = frozenset(), threshold: int = LARGE_FILE_BYTES
) -> list[tuple[str, int]]:
    """(path below SOURCE, bytes) of every regular file of at least THRESHOLD the code layer will hold:
    the PACKAGES' files as `copy_package` copies them, but the LINKED ones (they ship as links)."""
    found = []
    for package in packages:
        for path in sorted((source / package).rglob("*")):
            relative = path.relative_to(source)
            if any(fnmatch.fnmatch(part, ignored) for part in relative.parts for ignored in COPY_IGNORED):
                continue
            if relative.as_posix() in linked or path.is_symlink() or not path.is_file():
                continue
            if (size := path.stat().st_size) >= threshold:
                found.append((relative.as_posix(), size))
    return found


def size_advice(
    source: Path, packages: Sequence[str], linked: Set[str] = frozenset(), threshold: int = LARGE_FILE_BYTES
) -> list[str]:
    """One line per large committed file the code layer will hold: a code change re-pushes it."""
    return [
        f"src/{relative} ({human_bytes(size)}) ships in the code layer, so every code change re-pushes it: "
        f'add `assets = ["src/{relative}"]` to [tool.lambdakit] in pyproject.toml to move it into the '
        "asset layer (then `nox -s snapshot && nox -s assets`)"
        for relative, size in large_code_files(source, packages, linked, threshold)
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
