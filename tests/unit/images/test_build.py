"""The command lines and container settings the image steps build, checked without running them."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from lambdakit.config import template
from lambdakit.core import config, runtimes
from lambdakit.core.errors import ConfigError
from lambdakit.images import baseimage, build, engine, hostinstall, platform, sam

REPO = Path(__file__).resolve().parents[3]
PROJECT = config.load()  # this repository's settings, as a command loads them once
RUNTIME = runtimes.RUNTIMES["3.13"]


def inputs_of(base: str, asset: str | None, handler: str = config.DEFAULT_HANDLER) -> build.BuildInputs:
    return build.BuildInputs(base, asset, RUNTIME, "x86_64", handler)


def test_debootstrap_is_minbase_with_python_and_uses_debian_default_mirror() -> None:
    argv = baseimage.debootstrap_argv(Path("/r"), "trixie")
    assert argv == [
        "debootstrap",
        "--variant=minbase",
        "--arch=amd64",
        "--include=python3,ca-certificates",
        "trixie",
        "/r",
    ]
    assert baseimage.debootstrap_argv(Path("/r"), "trixie", "http://mirror.local/debian")[-1].endswith(
        "/debian"
    )
    assert "--arch=arm64" in baseimage.debootstrap_argv(Path("/r"), "trixie", architecture="arm64")


def test_stand_in_base_follows_the_runtime_python() -> None:
    # Debian's python3 is the runtime's minor version: 3.13 is trixie (the 3.11 one serves the torch baseline)
    assert baseimage.suite_for("3.13") == "trixie" and baseimage.suite_for("3.11") == "bookworm"
    assert baseimage.stand_in_tag("3.13") == "lambdakit/lambda-python:3.13"
    assert baseimage.stand_in_tag("3.13", "arm64") == "lambdakit/lambda-python:3.13-arm64"
    assert baseimage.runtime_site("3.13") == "/usr/local/lib/python3.13/dist-packages"
    with pytest.raises(ConfigError, match=r"No Debian release has Python 3\.12"):
        baseimage.suite_for("3.12")


def test_rootfs_tar_is_sorted_and_numeric_and_drops_docs() -> None:
    argv = baseimage.rootfs_tar_argv(Path("/r"), Path("/out.tar"))
    assert argv[:3] == ["tar", "-C", "/r"] and "--sort=name" in argv and "--numeric-owner" in argv
    assert "--exclude=./usr/share/doc" in argv and argv[-1] == "."


def test_manylinux_tags_cover_every_glibc_from_the_base_down_to_2014() -> None:
    tags = hostinstall.manylinux_platforms("x86_64", (2, 28))
    assert tags[0] == "manylinux_2_28_x86_64" and tags[-2:] == [
        "manylinux_2_17_x86_64",
        "manylinux2014_x86_64",
    ]
    assert len(tags) == 13
    assert hostinstall.manylinux_platforms("arm64")[-1] == "manylinux2014_aarch64"
    with pytest.raises(ValueError, match="older than manylinux2014"):
        hostinstall.manylinux_platforms("x86_64", (2, 12))


def test_pip_installs_wheels_for_the_image_platform_checked_against_the_lock() -> None:
    argv = hostinstall.pip_target_argv(
        Path("/t"), ["-r", "req.txt"], ["manylinux_2_28_x86_64", "manylinux2014_x86_64"], "3.13"
    )
    text = " ".join(argv)
    assert "--target /t" in text and "--python-version 3.13" in text and "--abi cp313" in text
    assert "--platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64" in text
    for flag in ("--only-binary=:all:", "--no-deps", "--require-hashes", "--no-compile"):
        assert flag in argv
    assert argv[-2:] == ["-r", "req.txt"]
    assert "--require-hashes" not in hostinstall.pip_target_argv(Path("/t"), ["x==1"], ["p"], hashes=False)


def test_pip_keeps_its_cache_out_of_the_ml_cache_root() -> None:
    env = hostinstall.pip_environment({"XDG_CACHE_HOME": "/repo/.cache", "HOME": "/home/u"})
    assert not env["PIP_CACHE_DIR"].startswith("/repo/.cache")
    assert hostinstall.pip_environment({"PIP_CACHE_DIR": "/x"})["PIP_CACHE_DIR"] == "/x"


def test_the_base_inspected_once_gives_the_layer_table_its_base_layers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    layer = SimpleNamespace(created_by="", size=1, diff_id="sha256:" + "a" * 64)
    monkeypatch.setattr(engine, "layers", lambda tag: [layer] * 5)
    base = platform.BaseImage("b:1", {"RootFS": {"Layers": ["x", "y"]}})
    assert [role for role, *_ in build.layer_table("f:1", base)] == ["base", "base", "assets", "deps", "code"]


def test_sam_build_passes_both_images_as_parameter_overrides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sam, "executable", lambda: "sam")
    inputs = inputs_of("lambdakit/lambda-python:3.13", "triage-assets:0123456789ab")
    argv = build.sam_build_argv(template.load(project=PROJECT), inputs, ["--debug"])
    assert argv[:4] == ["sam", "build", "--template-file", str(template.TEMPLATE)]
    overrides = argv[argv.index("--parameter-overrides") + 1]
    assert overrides.startswith(
        "BaseImage=lambdakit/lambda-python:3.13 AssetImage=triage-assets:0123456789ab"
    )
    assert argv[-1] == "--debug"


def test_the_functions_own_build_arg_follows_the_variable_of_its_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sam, "executable", lambda: "sam")
    monkeypatch.setattr(
        engine, "require_image", lambda tag, fix: SimpleNamespace(labels={}, attrs={"Architecture": "amd64"})
    )
    text = (
        template.TEMPLATE.read_text()
        .replace(
            "        ASSET_IMAGE: !Ref AssetImage\n",
            "        ASSET_IMAGE: !Ref AssetImage\n        MODEL_SIZE: !Ref ModelSize\n",
        )
        .replace("Parameters:\n", "Parameters:\n  ModelSize:\n    Type: String\n    Default: small\n", 1)
    )
    (tmp_path / "template.yaml").write_text(text)
    tpl = template.load(tmp_path / "template.yaml", project=PROJECT)
    monkeypatch.setenv("MODEL_SIZE", "large")
    inputs = build.resolve_inputs(PROJECT, tpl, base="base:1", asset="assets:1")
    assert inputs.build_args()["MODEL_SIZE"] == "large"
    assert " ModelSize=large" in build.sam_build_argv(tpl, inputs)[-1]
    monkeypatch.delenv("MODEL_SIZE")
    assert build.function_build_args(tpl) == {"MODEL_SIZE": "small"}  # the parameter's default


def test_a_function_with_no_assets_builds_without_an_asset_image(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The snapshot recorded nothing to ship: no asset image is looked for or passed to sam build."""
    monkeypatch.setattr(build.assets, "none_recorded", lambda report=None: True)
    project = config.ProjectConfig(project="noasset-unit")

    def no_image(tag: str, fix: str) -> None:
        raise AssertionError(f"looked for {tag}")

    monkeypatch.setattr(engine, "require_image", no_image)
    monkeypatch.setattr(sam, "executable", lambda: "sam")
    tpl = template.load(project=project)
    inputs = build.resolve_inputs(project, tpl, base="base:1")
    assert inputs.asset_image is None and "ASSET_IMAGE" not in inputs.build_args()
    assert inputs.describe() == "base base:1, assets none"
    assert "AssetImage=" not in build.sam_build_argv(tpl, inputs)[-1]


def test_named_assets_without_an_asset_image_say_to_snapshot_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build.assets, "none_recorded", lambda report=None: True)
    project = config.ProjectConfig(project="noasset-unit", assets=("src/app/model.onnx",))
    with pytest.raises(ConfigError, match="run `nox -s snapshot` and `nox -s assets` again"):
        build.resolve_inputs(project, template.load(project=project), base="base:1")


def test_the_function_image_is_tagged_with_the_project(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sam, "executable", lambda: "sam")
    tpl = template.load(project=PROJECT)
    overrides = build.sam_build_argv(tpl, inputs_of("b:1", "a:1"))[-1]
    assert f"FunctionImageTag={PROJECT.project}" in overrides
    assert tpl.image.local_image == PROJECT.function_image == f"inferencefunction:{PROJECT.project}"


def test_sam_environment_is_offline_safe() -> None:
    env = sam.environment({"PATH": "/bin"})
    assert env["SAM_CLI_TELEMETRY"] == "0" and env["AWS_EC2_METADATA_DISABLED"] == "true"
    assert env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert sam.environment({"AWS_REGION": "eu-west-1"})["AWS_DEFAULT_REGION"] == "eu-west-1"
