"""Read `template.yaml` (SAM) once into a frozen `Template`: the function's Lambda limits and its image
build settings.

Each command loads it at its entry and passes it down. The local runs (`nox -s local -- --faithful`, bench,
tune) take their limits from here, so what is tested locally is what is deployed. ruamel.yaml's round-trip
loader reads CloudFormation tags (`!Ref`, `!GetAtt`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from lambdakit.core import config
from lambdakit.core.errors import ConfigError
from lambdakit.core.settings import REPO_ROOT

TEMPLATE = REPO_ROOT / "template.yaml"
FUNCTION_ID = "InferenceFunction"
# The parameter `DockerTag` refers to: the kit passes the project's name, so two projects sharing one
# Docker engine never overwrite each other's function image.
IMAGE_TAG_PARAMETER = "FunctionImageTag"
MB_PER_VCPU = 1769  # Lambda gives one full vCPU at 1769 MB and CPU in proportion to memory

# Lambda's own defaults, used when the template does not say.
DEFAULTS = {"Timeout": 3, "MemorySize": 128, "EphemeralStorage": 512, "Architecture": "x86_64"}
RANGES = {"Timeout": (1, 900), "MemorySize": (128, 10240), "EphemeralStorage": (512, 10240)}


@dataclass(frozen=True)
class Architecture:
    """What one Lambda architecture means for pip, Docker and the emulator."""

    name: str
    pip_platform: str
    docker_platform: str
    rie_binary: str
    debian_arch: str
    machine: str  # `uname -m`, and the name of its QEMU user emulator (`qemu-<machine>`)


ARCHITECTURES = {
    "x86_64": Architecture(
        "x86_64", "manylinux2014_x86_64", "linux/amd64", "aws-lambda-rie-x86_64", "amd64", "x86_64"
    ),
    "arm64": Architecture(
        "arm64", "manylinux2014_aarch64", "linux/arm64", "aws-lambda-rie-arm64", "arm64", "aarch64"
    ),
}


@dataclass(frozen=True)
class Limits:
    """The limits Lambda enforces on one execution environment of the function, and the environment
    variables it sets there (the template's `Environment: Variables:`)."""

    memory_mb: int
    timeout_s: int
    ephemeral_mb: int
    architecture: str = "x86_64"
    variables: tuple[tuple[str, str], ...] = ()  # the function's Environment Variables, in template order

    @property
    def cpus(self) -> float:
        """CPU share Lambda gives this memory size (`docker --cpus`)."""
        return self.memory_mb / MB_PER_VCPU

    @property
    def nano_cpus(self) -> int:
        return int(self.memory_mb * 1_000_000_000 // MB_PER_VCPU)

    def with_memory(self, memory_mb: int) -> Limits:
        _check_range("MemorySize", memory_mb)
        return dataclasses.replace(self, memory_mb=memory_mb)


@dataclass(frozen=True)
class ImageSettings:
    """The function's `Metadata` for `sam build`, and the tag SAM gives the image it builds."""

    dockerfile: str
    context: str
    tag: str
    build_args: dict[str, str]
    local_image: str


@dataclass(frozen=True)
class Template:
    """template.yaml as the kit reads it, once per command: the function's limits and its image settings.

    A command loads it at its entry (`load`) and passes it down; nothing below re-reads the file.
    """

    path: Path
    limits: Limits
    image: ImageSettings
    build_arg_parameters: dict[str, str]  # build arg → the parameter that feeds it (`!Ref`)
    kit_parameters: dict[str, str]  # the parameters the kit sets at every build, when declared


def load(
    path: Path = TEMPLATE, project: config.ProjectConfig | None = None, function: str = FUNCTION_ID
) -> Template:
    """Read and check template.yaml; a problem is a one-line `ConfigError` naming the fix."""
    document = read(path)
    resource = function_resource(document, function, path)
    project = project or config.load(path.parent)
    declared = document.get("Parameters") or {}
    kit = {IMAGE_TAG_PARAMETER: project.project} if IMAGE_TAG_PARAMETER in declared else {}
    return Template(
        path=path,
        limits=_limits(document, resource, path),
        image=_image_settings(document, resource, function, path, kit),
        build_arg_parameters=_build_arg_parameters(resource),
        kit_parameters=kit,
    )


def read(path: Path) -> Any:
    """The YAML document of a SAM template (CloudFormation tags kept), for the kit's typed readers and for
    the commands that rewrite a template (deploy's ImageUri, tune's MemorySize)."""
    try:
        return YAML().load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{path} is missing; the kit reads the function's settings from the SAM template."
        ) from None
    except YAMLError as exc:
        raise ConfigError(
            f"{path} is not valid YAML ({str(exc).splitlines()[0]}); fix it and retry."
        ) from exc


def function_resource(document: Any, function: str = FUNCTION_ID, path: Path = TEMPLATE) -> Any:
    resource = (document.get("Resources") or {}).get(function)
    if resource is None:
        raise ConfigError(
            f"{path} has no resource {function}; the kit expects the function under that logical id."
        )
    return resource


def _limits(document: Any, resource: Any, path: Path) -> Limits:
    """Timeout, MemorySize, EphemeralStorage, Architectures and Environment: the resource's own value, else
    Globals (Environment Variables are merged, the resource's winning, as SAM does)."""
    globals_ = (document.get("Globals") or {}).get("Function") or {}
    merged = dict(globals_)
    merged.update(resource.get("Properties") or {})
    merged["Environment"] = _variables(globals_, path) | _variables(resource.get("Properties") or {}, path)
    ephemeral = merged.get("EphemeralStorage") or {}
    architectures = list(merged.get("Architectures") or [DEFAULTS["Architecture"]])
    values = {
        "Timeout": _integer(merged.get("Timeout", DEFAULTS["Timeout"]), "Timeout", path),
        "MemorySize": _integer(merged.get("MemorySize", DEFAULTS["MemorySize"]), "MemorySize", path),
        "EphemeralStorage": _integer(
            ephemeral.get("Size", DEFAULTS["EphemeralStorage"]), "EphemeralStorage", path
        ),
    }
    for name, value in values.items():
        _check_range(name, value, path)
    if len(architectures) != 1 or str(architectures[0]) not in ARCHITECTURES:
        raise ConfigError(
            f"{path}: Architectures must be one of {sorted(ARCHITECTURES)}, got {architectures}."
        )
    return Limits(
        memory_mb=values["MemorySize"],
        timeout_s=values["Timeout"],
        ephemeral_mb=values["EphemeralStorage"],
        architecture=str(architectures[0]),
        variables=tuple(merged["Environment"].items()),
    )


def _variables(properties: Any, path: Path) -> dict[str, str]:
    """`Environment: Variables:` as strings (Lambda's values are strings; YAML may read 8 as a number)."""
    variables = (properties.get("Environment") or {}).get("Variables") or {}
    if not isinstance(variables, dict) or any(
        getattr(value, "tag", None) is not None or isinstance(value, dict | list)
        for value in variables.values()
    ):
        raise ConfigError(
            f"{path}: Environment Variables must map names to plain values (the kit's local runs apply "
            "them as Lambda does; a !Ref or !Sub is not resolved locally): write the value itself."
        )
    return {
        str(name): str(value).lower() if isinstance(value, bool) else str(value)
        for name, value in variables.items()
    }


def _image_settings(
    document: Any, resource: Any, function: str, path: Path, kit: dict[str, str]
) -> ImageSettings:
    """The Docker metadata of an image function; `!Ref` build args resolve to the parameters' defaults."""
    metadata = resource.get("Metadata") or {}
    missing = [key for key in ("Dockerfile", "DockerContext") if key not in metadata]
    if missing or (resource.get("Properties") or {}).get("PackageType") != "Image":
        raise ConfigError(
            f"{path}: {function} must have PackageType: Image and Metadata Dockerfile/DockerContext."
        )
    defaults = _parameter_defaults(document)
    args = {str(k): _resolve(v, defaults) for k, v in (metadata.get("DockerBuildArgs") or {}).items()}
    tag = _resolve(metadata.get("DockerTag", "latest"), defaults | kit)
    return ImageSettings(
        dockerfile=str(metadata["Dockerfile"]),
        context=str(metadata["DockerContext"]),
        tag=tag,
        build_args=args,
        local_image=f"{function.lower()}:{tag}",
    )


def _parameter_defaults(document: Any) -> dict[str, str]:
    return {
        str(name): str(spec.get("Default", "")) for name, spec in (document.get("Parameters") or {}).items()
    }


def _build_arg_parameters(resource: Any) -> dict[str, str]:
    """Which template parameter feeds each Docker build arg (`BASE_IMAGE: !Ref BaseImage` → BaseImage)."""
    metadata = resource.get("Metadata") or {}
    return {
        str(arg): str(value.value)
        for arg, value in (metadata.get("DockerBuildArgs") or {}).items()
        if getattr(value, "tag", None) is not None and str(value.tag.value) == "!Ref"
    }


def _resolve(value: Any, parameters: dict[str, str]) -> str:
    if getattr(value, "tag", None) is not None and str(value.tag.value) == "!Ref":
        return parameters.get(str(value.value), "")
    return str(value)


def _integer(value: Any, name: str, path: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{path}: {name} must be a whole number, got {value!r}.")
    return value


def _check_range(name: str, value: int, path: Path | None = None) -> None:
    low, high = RANGES[name]
    if not low <= value <= high:
        where = f"{path}: " if path else ""
        raise ConfigError(f"{where}{name} must be between {low} and {high} (Lambda's limits), got {value}.")
