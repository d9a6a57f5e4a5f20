"""Read `template.yaml` (SAM) once into a frozen `Template`: the function's target (its Lambda limits,
`config/target.py`) and its image build settings.

Each command loads it at its entry and passes it down. The local runs (`nox -s local -- --faithful`, bench,
tune) take their limits from here, so what is tested locally is what is deployed. ruamel.yaml's round-trip
loader reads CloudFormation tags (`!Ref`, `!GetAtt`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from lambdakit.config import target
from lambdakit.config.target import ARCHITECTURES, SNAPSTART_ON, Target
from lambdakit.core import config, files
from lambdakit.core.errors import BrokenFile, ConfigError
from lambdakit.core.settings import REPO_ROOT

TEMPLATE = REPO_ROOT / "template.yaml"
FUNCTION_ID = "InferenceFunction"
# The parameter `DockerTag` refers to: the kit passes the project's name, so two projects sharing one
# Docker engine never overwrite each other's function image.
IMAGE_TAG_PARAMETER = "FunctionImageTag"
# SnapStart applies to published versions only: SAM's AutoPublishAlias publishes one per deploy and points
# this alias at it; the stack output ALIAS_OUTPUT (its ARN) is what invoke and rehearse call.
ALIAS = "live"
ALIAS_OUTPUT = f"{FUNCTION_ID}Alias"

# Lambda's own defaults, used when the template does not say (its rules: config/target.py).
DEFAULTS = target.LAMBDA.defaults
FIX = "fix it as SAM's AWS::Serverless::Function reference describes and retry."
# ruamel.yaml's scanner is quadratic in the nesting of flow collections (`[[[...` 5,000 deep takes 28 s,
# 100,000 deep hours): deeper than this is refused before it parses. No SAM template comes near it.
MAX_FLOW_DEPTH = 64
# What the depth count skips: quoted scalars and comments (their brackets are text), then one bracket.
FLOW_TOKENS = re.compile(r""""(?:[^"\\\n]|\\.)*"|'(?:[^'\n]|'')*'|(?:^|(?<=\s))#[^\n]*|[\[\]{}]""")


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
    """template.yaml as the kit reads it, once per command: the function's target and its image settings.

    A command loads it at its entry (`load`) and passes it down; nothing below re-reads the file.
    """

    path: Path
    target: Target  # where the function runs: its limits, architecture, runtime, SnapStart, concurrency
    image: ImageSettings
    build_arg_parameters: dict[str, str]  # build arg → the parameter that feeds it (`!Ref`)
    kit_parameters: dict[str, str]  # the parameters the kit sets at every build, when declared


def load(path: Path = TEMPLATE, *, project: config.ProjectConfig, function: str = FUNCTION_ID) -> Template:
    """Read and check template.yaml for PROJECT (its runtime, SnapStart setting and image tag: the command
    loaded it); a problem is a one-line `ConfigError` naming the fix."""
    document = read(path)
    resource = function_resource(document, function, path)
    declared = _mapping(document.get("Parameters"), path, "Parameters")
    kit = {IMAGE_TAG_PARAMETER: project.project} if IMAGE_TAG_PARAMETER in declared else {}
    return Template(
        path=path,
        target=target.configure(
            _limits(document, resource, path),
            _with_snapstart(_properties(document, resource, path), project, path),
            project.python,
            f"{path}: ",
        ),
        image=_image_settings(document, resource, function, path, kit),
        build_arg_parameters=_build_arg_parameters(resource),
        kit_parameters=kit,
    )


def read(path: Path) -> Any:
    """The YAML document of a SAM template (CloudFormation tags kept), for the kit's typed readers and for
    the commands that rewrite a template (deploy's ImageUri, tune's MemorySize)."""
    try:
        text = files.read_text(path, FIX)
    except FileNotFoundError:
        raise ConfigError(
            f"{path} is missing; the kit reads the function's settings from the SAM template."
        ) from None
    if _flow_depth(text) > MAX_FLOW_DEPTH:
        raise BrokenFile(f"{path} nests [ ] or {{ }} more than {MAX_FLOW_DEPTH} levels deep; {FIX}")
    try:
        document = YAML().load(text)
    except YAMLError as exc:
        raise BrokenFile(f"{path} is not valid YAML ({_yaml_problem(exc)}); fix it and retry.") from None
    except RecursionError:
        raise BrokenFile(f"{path} nests deeper than a YAML parser can read; {FIX}") from None
    except ValueError as exc:  # a scalar the loader cannot build, such as the date 2026-02-30
        raise BrokenFile(f"{path} cannot be read as YAML ({exc}); {FIX}") from None
    if not isinstance(document, dict):
        what = "is empty" if document is None else f"is {files.shown(document)}, not a mapping"
        raise BrokenFile(
            f"{path} {what}: a SAM template maps Resources (and Globals...) to their settings; {FIX}"
        )
    return document


def _yaml_problem(exc: YAMLError) -> str:
    """The parser's problem and where (`expected <block end>, but found '-' at line 2, column 1`)."""
    problem, mark = getattr(exc, "problem", None), getattr(exc, "problem_mark", None)
    if problem and mark is not None:
        return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _flow_depth(text: str) -> int:
    """The deepest nesting of [ ] and { } in TEXT, outside quoted scalars and comments (one linear pass)."""
    depth = deepest = 0
    for token in FLOW_TOKENS.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif bracket in "]}":
            depth = max(0, depth - 1)
    return deepest


def function_resource(document: Any, function: str = FUNCTION_ID, path: Path = TEMPLATE) -> Any:
    resource = _mapping(document.get("Resources"), path, "Resources").get(function)
    if resource is None:
        raise ConfigError(
            f"{path} has no resource {function}; the kit expects the function under that logical id."
        )
    return _mapping(resource, path, f"Resources.{function}")


def _mapping(value: Any, path: Path, key: str) -> Any:
    """VALUE when it is a mapping; an absent (or empty) key reads as an empty one."""
    if value is None:
        return {}
    return files.expect(value, lambda v: isinstance(v, dict), "a mapping", str(path), key, FIX)


def _properties(document: Any, resource: Any, path: Path) -> dict[str, Any]:
    """The function's properties: the resource's own value, else Globals."""
    merged = dict(
        _mapping(_mapping(document.get("Globals"), path, "Globals").get("Function"), path, "Globals.Function")
    )
    merged.update(_mapping(resource.get("Properties"), path, "Properties"))
    return merged


def _with_snapstart(properties: dict[str, Any], project: config.ProjectConfig, path: Path) -> dict[str, Any]:
    """PROPERTIES with `[tool.lambdakit] snapstart = true` applied; a template saying otherwise is refused."""
    if not project.snapstart:
        return properties
    own = properties.get("SnapStart")
    if own is not None and not (isinstance(own, Mapping) and own.get("ApplyOn") == SNAPSTART_ON):
        raise ConfigError(
            f"{path}: [tool.lambdakit] snapstart = true but the function sets SnapStart {dict(own)!r}; "
            "keep one of the two."
            if isinstance(own, Mapping)
            else f"{path}: SnapStart must be a mapping such as {{ApplyOn: {SNAPSTART_ON}}}, got {own!r}."
        )
    return properties | {"SnapStart": {"ApplyOn": SNAPSTART_ON}}


def for_deploy(
    document: Any, project: config.ProjectConfig, path: Path = TEMPLATE, function: str = FUNCTION_ID
) -> Target:
    """Make DOCUMENT (the built template deploy ships) say what the function's target says, and return it.

    With SnapStart on (template.yaml's own property or `[tool.lambdakit] snapstart`) the function gets
    `SnapStart: {ApplyOn: PublishedVersions}` and, unless the template names one, `AutoPublishAlias: live`;
    a template with an alias gets the output ALIAS_OUTPUT (the alias ARN). The same checks as `load` run
    first, so what deploys is what the local runs, tune and bench took as the target.
    """
    resource = function_resource(document, function, path)
    merged = _with_snapstart(_properties(document, resource, path), project, path)
    checked = target.configure(_limits(document, resource, path), merged, project.python, f"{path}: ")
    properties = resource.setdefault("Properties", {})
    if checked.snapstart == SNAPSTART_ON:
        if "SnapStart" not in _properties(document, resource, path):  # from the pyproject key
            properties["SnapStart"] = {"ApplyOn": SNAPSTART_ON}
        if "AutoPublishAlias" not in merged:
            properties["AutoPublishAlias"] = ALIAS
    if "AutoPublishAlias" in _properties(document, resource, path):
        outputs = document.setdefault("Outputs", {})
        outputs[ALIAS_OUTPUT] = {
            "Description": "ARN of the alias on the version the last deploy published (invoke calls it).",
            "Value": {"Ref": f"{function}.Alias"},  # SAM's reference to the AutoPublishAlias alias
        }
    return checked


def _limits(document: Any, resource: Any, path: Path) -> Target:
    """Timeout, MemorySize, EphemeralStorage, Architectures and Environment: the resource's own value, else
    Globals (Environment Variables are merged, the resource's winning, as SAM does)."""
    merged = _properties(document, resource, path)
    globals_ = _mapping(_mapping(document.get("Globals"), path, "Globals").get("Function"), path, "Globals")
    own = _mapping(resource.get("Properties"), path, "Properties")
    variables = _variables(globals_, path) | _variables(own, path)
    ephemeral = _mapping(merged.get("EphemeralStorage"), path, "EphemeralStorage")
    architectures = merged.get("Architectures")
    architectures = [DEFAULTS["Architecture"]] if architectures in (None, []) else architectures
    files.expect(
        architectures, lambda v: isinstance(v, list), "a list, e.g. [arm64]", str(path), "Architectures", FIX
    )
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
            f"{path}: Architectures must be one of {sorted(ARCHITECTURES)}, got {files.shown(architectures)}."
        )
    return Target(
        memory_mb=values["MemorySize"],
        timeout_s=values["Timeout"],
        ephemeral_mb=values["EphemeralStorage"],
        architecture=str(architectures[0]),
        variables=tuple(variables.items()),
    )


def _variables(properties: Any, path: Path) -> dict[str, str]:
    """`Environment: Variables:` as strings (Lambda's values are strings; YAML may read 8 as a number)."""
    environment = _mapping(properties.get("Environment"), path, "Environment")
    variables = _mapping(environment.get("Variables"), path, "Environment.Variables")
    if any(
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
    metadata = _mapping(resource.get("Metadata"), path, "Metadata")
    missing = [key for key in ("Dockerfile", "DockerContext") if key not in metadata]
    if missing or _mapping(resource.get("Properties"), path, "Properties").get("PackageType") != "Image":
        raise ConfigError(
            f"{path}: {function} must have PackageType: Image and Metadata Dockerfile/DockerContext."
        )
    for key in ("Dockerfile", "DockerContext"):
        files.string(metadata[key], str(path), f"Metadata.{key}", FIX)
    defaults = _parameter_defaults(document, path)
    build_args = _mapping(metadata.get("DockerBuildArgs"), path, "Metadata.DockerBuildArgs")
    args = {str(k): _resolve(v, defaults) for k, v in build_args.items()}
    tag = _resolve(metadata.get("DockerTag", "latest"), defaults | kit)
    return ImageSettings(
        dockerfile=str(metadata["Dockerfile"]),
        context=str(metadata["DockerContext"]),
        tag=tag,
        build_args=args,
        local_image=f"{function.lower()}:{tag}",
    )


def _parameter_defaults(document: Any, path: Path) -> dict[str, str]:
    parameters = _mapping(document.get("Parameters"), path, "Parameters")
    return {
        str(name): str(_mapping(spec, path, f"Parameters.{name}").get("Default", ""))
        for name, spec in parameters.items()
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
    target.LAMBDA.check_range(name, value, f"{path}: " if path else "")
