"""template.yaml is where the limits and the image build settings come from; read it as SAM would."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambdakit.config import template
from lambdakit.config.target import Target
from lambdakit.core import config as project_config
from lambdakit.core.errors import ConfigError
from tests import brokenfiles as broken

DEFAULTS = project_config.ProjectConfig()  # no pyproject.toml beside these templates: the defaults

TEMPLATE_WITH_OVERRIDES = """\
Transform: AWS::Serverless-2016-10-31
Parameters:
  BaseImage: {Type: String, Default: base:1}
Globals:
  Function:
    Timeout: 30
    MemorySize: 1024
    EphemeralStorage: {Size: 2048}
Resources:
  InferenceFunction:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
      MemorySize: 3008
      Architectures: [arm64]
    Metadata:
      DockerContext: ctx
      Dockerfile: Dockerfile
      DockerTag: v2
      DockerBuildArgs:
        BASE_IMAGE: !Ref BaseImage
        PLAIN: literal
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text(text)
    return path


def image_function(*properties: str) -> str:
    """The smallest template the kit accepts: one image function, with PROPERTIES lines."""
    lines = "".join(f"      {line}\n" for line in ("PackageType: Image", *properties))
    metadata = "    Metadata: {Dockerfile: Dockerfile, DockerContext: .}\n"
    return f"Resources:\n  InferenceFunction:\n    Properties:\n{lines}{metadata}"


def test_the_shipped_template_gives_one_full_vcpu() -> None:
    limits = template.load(project=project_config.load()).target
    assert limits == Target(
        memory_mb=1769,
        timeout_s=30,
        ephemeral_mb=512,
        architecture="x86_64",
        variables=(("INFERENCE_PRECISION", "fp32"),),  # the demo's own setting, in its Environment
    )
    assert limits.cpus == 1.0 and limits.nano_cpus == 1_000_000_000


def test_resource_properties_override_globals(tmp_path: Path) -> None:
    limits = template.load(write(tmp_path, TEMPLATE_WITH_OVERRIDES), project=DEFAULTS).target
    assert limits == Target(memory_mb=3008, timeout_s=30, ephemeral_mb=2048, architecture="arm64")


def test_lambda_defaults_apply_when_the_template_is_silent(tmp_path: Path) -> None:
    assert template.load(write(tmp_path, image_function()), project=DEFAULTS).target == Target(
        memory_mb=128, timeout_s=3, ephemeral_mb=512
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("MemorySize: 64", "MemorySize must be between 128 and 10240"),
        ("Timeout: 901", "Timeout must be between 1 and 900"),
        ("Timeout: '30'", "Timeout must be a whole number"),
        ("Architectures: [x86_64, arm64]", "Architectures must be one of"),
    ],
)
def test_out_of_range_settings_are_refused_with_lambdas_limits(
    tmp_path: Path, line: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        template.load(write(tmp_path, image_function(line)), project=DEFAULTS)


def test_missing_function_and_missing_file_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no resource InferenceFunction"):
        template.load(write(tmp_path, "Resources: {Other: {Type: X}}\n"), project=DEFAULTS)
    with pytest.raises(ConfigError, match="is missing"):
        template.load(tmp_path / "absent.yaml", project=DEFAULTS)


def test_a_function_that_is_not_an_image_is_refused(tmp_path: Path) -> None:
    text = image_function().replace("    Metadata: {Dockerfile: Dockerfile, DockerContext: .}\n", "")
    with pytest.raises(ConfigError, match="must have PackageType: Image and Metadata Dockerfile"):
        template.load(write(tmp_path, text), project=DEFAULTS)


def test_image_settings_resolve_build_args_to_parameter_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, TEMPLATE_WITH_OVERRIDES)
    settings = template.load(path, project=DEFAULTS).image
    assert settings.build_args == {"BASE_IMAGE": "base:1", "PLAIN": "literal"}
    assert settings.local_image == "inferencefunction:v2"  # the tag `sam build` gives the image
    assert template.load(path, project=DEFAULTS).build_arg_parameters == {"BASE_IMAGE": "BaseImage"}


def test_shipped_template_feeds_every_dockerfile_arg_from_parameters() -> None:
    assert template.load(project=project_config.load()).build_arg_parameters == {
        "BASE_IMAGE": "BaseImage",
        "ASSET_IMAGE": "AssetImage",
    }
    settings = template.load(project=project_config.load()).image
    # plain `sam build` uses the base of the project's runtime ([tool.lambdakit] python), as `nox -s build`
    base = settings.build_args["BASE_IMAGE"]
    assert base == project_config.load().runtime.base_image == "public.ecr.aws/lambda/python:3.13"
    assert settings.build_args["ASSET_IMAGE"] == ""  # no demo default: `nox -s build` names the project's
    assert settings.dockerfile == "Dockerfile"  # the copy the build stages in the context


def test_the_shipped_template_and_dockerfile_hold_nothing_of_the_demo_in_kit_parts() -> None:
    document = template.read(template.TEMPLATE)
    kit_parts = {key: document.get(key) for key in ("Description", "Parameters", "Outputs")}
    kit_parts["Metadata"] = template.function_resource(document)["Metadata"]
    text = repr(kit_parts) + (template.TEMPLATE.parent / "Dockerfile").read_text()
    for demo_word in ("triage", "ticket", "INFERENCE_PRECISION", "InferencePrecision"):
        assert demo_word not in text


def test_environment_variables_merge_globals_and_the_function_as_strings(tmp_path: Path) -> None:
    text = TEMPLATE_WITH_OVERRIDES.replace(
        "    EphemeralStorage: {Size: 2048}\n",
        "    EphemeralStorage: {Size: 2048}\n    Environment: {Variables: {LEVEL: info, THREADS: 2}}\n",
    ).replace(
        "      MemorySize: 3008\n",
        "      MemorySize: 3008\n      Environment:\n        Variables:\n"
        "          THREADS: 4\n          DEBUG: true\n",
    )
    limits = template.load(write(tmp_path, text), project=DEFAULTS).target
    assert dict(limits.variables) == {"LEVEL": "info", "THREADS": "4", "DEBUG": "true"}


def test_an_environment_value_the_kit_cannot_resolve_is_refused(tmp_path: Path) -> None:
    line = "Environment: {Variables: {TABLE: !Ref Table}}"
    with pytest.raises(ConfigError, match="write the value itself"):
        template.load(write(tmp_path, image_function(line)), project=DEFAULTS)


def test_limits_math_for_a_smaller_function() -> None:
    half = template.load(project=project_config.load()).target.with_memory(884)
    assert round(half.cpus, 3) == 0.5 and half.memory_mb == 884
    with pytest.raises(ConfigError):
        half.with_memory(20000)


# --- broken files: one line naming the file and the key, never a traceback (issue 22) ----------------------

TEMPLATE = {
    "Parameters": {"BaseImage": {"Type": "String", "Default": "base:1"}},
    "Globals": {"Function": {"Timeout": 30, "MemorySize": 1024, "EphemeralStorage": {"Size": 1024}}},
    "Resources": {
        "InferenceFunction": {
            "Type": "AWS::Serverless::Function",
            "Properties": {"PackageType": "Image", "Architectures": ["x86_64"], "MemorySize": 2048},
            "Metadata": {
                "Dockerfile": "Dockerfile",
                "DockerContext": ".",
                "DockerTag": "v1",
                "DockerBuildArgs": {"PLAIN": "literal"},
            },
        }
    },
}
FUNCTION = ("Resources", "InferenceFunction")
TEMPLATE_KEYS: list[tuple[tuple[str, ...], type | tuple[type, ...]]] = [
    ((), dict),
    (("Parameters",), dict),
    (("Parameters", "BaseImage"), dict),
    (("Globals",), dict),
    (("Globals", "Function"), dict),
    (("Globals", "Function", "Timeout"), int),
    (("Globals", "Function", "EphemeralStorage"), dict),
    (("Globals", "Function", "EphemeralStorage", "Size"), int),
    (("Resources",), dict),
    (FUNCTION, dict),
    ((*FUNCTION, "Properties"), dict),
    ((*FUNCTION, "Properties", "Timeout"), int),
    ((*FUNCTION, "Properties", "MemorySize"), int),
    ((*FUNCTION, "Properties", "Architectures"), list),
    ((*FUNCTION, "Metadata"), dict),
    ((*FUNCTION, "Metadata", "Dockerfile"), str),
    ((*FUNCTION, "Metadata", "DockerContext"), str),
    ((*FUNCTION, "Metadata", "DockerBuildArgs"), dict),
]
RELAXED = broken.examples(60)


def load_plain(path: Path) -> template.Template:
    return template.load(path, project=project_config.ProjectConfig())


def test_the_document_as_json_is_a_valid_template(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_bytes(broken.json_document(TEMPLATE))
    assert load_plain(path).target == Target(memory_mb=2048, timeout_s=30, ephemeral_mb=1024)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"template.yaml is empty: a SAM template maps Resources"),
        ("- a\n- b\n", r"template.yaml is \['a', 'b'\] \(a list\), not a mapping"),
        (
            image_function() + "Globals: [1]\n",
            r"template.yaml: Globals must be a mapping, not \[1\] \(a list\)",
        ),
        ("Resources: 3\n", r"template.yaml: Resources must be a mapping, not 3 \(an integer\)"),
        ("Resources: {InferenceFunction: {Properties: 1}}\n", r"Properties must be a mapping"),
        (b"Resources: {}\n# caf\xe9\n", r"template.yaml is not UTF-8 text \(byte 0xe9"),
        ("a: " + "[" * 100_000, r"template.yaml nests \[ \] or { } more than 64 levels deep"),
        ("- " * 5000 + "x", r"template.yaml nests deeper than a YAML parser"),
        (
            "a: 1\n- b\n",
            r"template.yaml is not valid YAML \(expected <block end>, but found '-' at line 2, column 1\)",
        ),
    ],
)
def test_a_broken_template_is_one_line(tmp_path: Path, text: str | bytes, message: str) -> None:
    path = tmp_path / "template.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(ConfigError, match=message) as caught:
        load_plain(path)
    assert len(str(caught.value).splitlines()) == 1


@RELAXED
@given(data=st.data())
def test_any_wrong_type_at_a_known_key_is_one_line(tmp_path: Path, data: st.DataObject) -> None:
    key, expected = data.draw(st.sampled_from(TEMPLATE_KEYS))
    document = broken.with_value(TEMPLATE, key, data.draw(broken.wrong(expected)))
    path = tmp_path / "template.yaml"
    path.write_bytes(broken.json_document(document))
    assert broken.one_line(lambda: load_plain(path), "template.yaml") is not None


@RELAXED
@given(raw=broken.broken_bytes(template.TEMPLATE.read_bytes(), lambda n: b"a: " + b"[" * n))
def test_any_broken_template_is_one_line_or_still_valid(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "template.yaml"
    path.write_bytes(raw)
    broken.one_line(lambda: load_plain(path), "template.yaml")
