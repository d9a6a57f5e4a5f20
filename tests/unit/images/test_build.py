"""The command lines and container settings the image steps build, checked without running them."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from lambdakit.config import template
from lambdakit.core import config, settings
from lambdakit.core.errors import ConfigError
from lambdakit.images import baseimage, build, engine, hostinstall, sam

REPO = Path(__file__).resolve().parents[3]


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
    arm64 = baseimage.debootstrap_argv(Path("/r"), "trixie", architecture="arm64")
    # on this x86_64 host only the first stage runs for arm64: the host's dpkg does the second (hoststage)
    assert arm64[:2] == ["debootstrap", "--foreign"] and "--arch=arm64" in arm64


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


def test_glibc_and_python_are_read_from_the_probe_output() -> None:
    assert build.parse_platform("glibc 2.41 3.13\n") == ((2, 41), "3.13")
    assert build.parse_platform("musl") == (None, None)


def test_sam_build_passes_both_images_as_parameter_overrides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sam, "executable", lambda: "sam")
    inputs = build.BuildInputs(
        base_image="lambdakit/lambda-python:3.13", asset_image="triage-assets:0123456789ab"
    )
    argv = build.sam_build_argv(template.load(), inputs, ["--debug"])
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
    monkeypatch.setattr(engine, "require_image", lambda tag, fix: SimpleNamespace(labels={}))
    text = (
        template.TEMPLATE.read_text()
        .replace(
            "        ASSET_IMAGE: !Ref AssetImage\n",
            "        ASSET_IMAGE: !Ref AssetImage\n        MODEL_SIZE: !Ref ModelSize\n",
        )
        .replace("Parameters:\n", "Parameters:\n  ModelSize:\n    Type: String\n    Default: small\n", 1)
    )
    (tmp_path / "template.yaml").write_text(text)
    tpl = template.load(tmp_path / "template.yaml")
    monkeypatch.setenv("MODEL_SIZE", "large")
    inputs = build.resolve_inputs(build.function_build_args(tpl), base="base:1", asset="assets:1")
    assert inputs.build_args()["MODEL_SIZE"] == "large"
    assert " ModelSize=large" in build.sam_build_argv(tpl, inputs)[-1]
    monkeypatch.delenv("MODEL_SIZE")
    assert build.function_build_args(tpl) == {"MODEL_SIZE": "small"}  # the parameter's default


def test_a_function_with_no_assets_builds_without_an_asset_image(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The snapshot recorded nothing to ship: no asset image is looked for or passed to sam build."""
    monkeypatch.setattr(build.assets, "none_recorded", lambda report=None: True)
    monkeypatch.setattr(build.config, "load", lambda repo=None: config.ProjectConfig(project="noasset-unit"))

    def no_image(tag: str, fix: str) -> None:
        raise AssertionError(f"looked for {tag}")

    monkeypatch.setattr(engine, "require_image", no_image)
    monkeypatch.setattr(sam, "executable", lambda: "sam")
    inputs = build.resolve_inputs({}, base="base:1")
    assert inputs.asset_image is None and "ASSET_IMAGE" not in inputs.build_args()
    assert inputs.describe() == "base base:1, assets none"
    assert "AssetImage=" not in build.sam_build_argv(template.load(), inputs)[-1]
    assert build.assets_for(inputs, "x86_64") is inputs


def test_named_assets_without_an_asset_image_say_to_snapshot_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build.assets, "none_recorded", lambda report=None: True)
    project = config.ProjectConfig(project="noasset-unit", assets=("src/app/model.onnx",))
    monkeypatch.setattr(build.config, "load", lambda repo=None: project)
    with pytest.raises(ConfigError, match="run `nox -s snapshot` and `nox -s assets` again"):
        build.resolve_inputs({}, base="base:1")


def test_the_staged_dockerfile_drops_only_the_asset_stage_when_there_are_no_assets(tmp_path: Path) -> None:
    context = tmp_path / "build" / "function"
    with_assets = build.stage_dockerfile(context, context / "Dockerfile", True)
    assert with_assets.read_text() == (REPO / "Dockerfile").read_text()
    without = build.stage_dockerfile(context, context / "Dockerfile", False).read_text()
    removed = set((REPO / "Dockerfile").read_text().splitlines()) - set(without.splitlines())
    assert removed == {"FROM ${ASSET_IMAGE} AS assets", "COPY --from=assets / /"}
    instructions = [line.split()[0] for line in without.splitlines() if line and line[0].isalpha()]
    assert instructions == ["ARG", "ARG", "FROM", "ENV", "COPY", "COPY", "CMD"]  # one stage: the function
    build.check_handler(context / "Dockerfile")


def test_the_staged_dockerfile_runs_the_configured_handler(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a function of its own package names its handler in pyproject alone: the Dockerfile is the kit's
    project = config.ProjectConfig(handler="irisapp.app.lambda_handler")
    monkeypatch.setattr(build.config, "load", lambda repo=None: project)
    context = tmp_path / "build" / "function"
    for with_assets in (True, False):
        staged = build.stage_dockerfile(context, context / "Dockerfile", with_assets).read_text()
        assert build.CMD_RE.findall(staged) == ["irisapp.app.lambda_handler"]
        build.check_handler(context / "Dockerfile", project)
    assert build.CMD_RE.findall((REPO / "Dockerfile").read_text()) == [config.DEFAULT_HANDLER]  # untouched
    assert build.with_handler("FROM x\n", "a.b") == "FROM x\n"  # no CMD: left to check_handler to refuse


def test_a_template_pointing_at_the_source_dockerfile_cannot_build_without_assets(tmp_path: Path) -> None:
    context = tmp_path / "build" / "function"
    source = REPO / "Dockerfile"
    assert build.stage_dockerfile(context, source, True) == source  # used as it is, never rewritten
    with pytest.raises(ConfigError, match="set `Dockerfile: Dockerfile`"):
        build.stage_dockerfile(context, source, False)


def test_large_committed_files_get_a_one_line_suggestion(tmp_path: Path) -> None:
    code = tmp_path / "code"
    (code / "app").mkdir(parents=True)
    (code / "app" / "model.onnx").write_bytes(b"\0" * 2000)
    (code / "app" / "small.json").write_bytes(b"{}")
    (code / "app" / "linked.onnx").symlink_to("/cache/code-assets/app/linked.onnx")  # already moved
    advice = build.size_advice(code, threshold=1000)
    assert len(advice) == 1 and "\n" not in advice[0]
    assert advice[0].startswith("src/app/model.onnx (2.0 KB) ships in the code layer")
    assert 'assets = ["src/app/model.onnx"]' in advice[0]
    assert build.size_advice(code) == []  # the module's threshold: 50 MB
    assert build.LARGE_FILE_BYTES == 50 * 1000**2


def test_named_asset_files_leave_the_code_layer_as_links_into_the_asset_layer(tmp_path: Path) -> None:
    code = tmp_path / "code" / "var" / "task"
    (code / "app").mkdir(parents=True)
    (code / "app" / "model.onnx").write_bytes(b"weights")
    (code / "app" / "handler.py").write_text("")
    build.link_code_assets(code, ["app/model.onnx"])
    link = code / "app" / "model.onnx"
    assert link.is_symlink() and str(link.readlink()) == "/cache/code-assets/app/model.onnx"
    assert link.lstat().st_mtime == 0  # the code layer stays reproducible
    assert (code / "app" / "handler.py").is_file()


def test_the_function_image_is_tagged_with_the_project(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sam, "executable", lambda: "sam")
    inputs = build.BuildInputs(base_image="b:1", asset_image="a:1")
    overrides = build.sam_build_argv(template.load(), inputs)[-1]
    project = config.load().project
    assert f"FunctionImageTag={project}" in overrides
    assert template.load().image.local_image == f"inferencefunction:{project}"


def test_sam_environment_is_offline_safe() -> None:
    env = sam.environment({"PATH": "/bin"})
    assert env["SAM_CLI_TELEMETRY"] == "0" and env["AWS_EC2_METADATA_DISABLED"] == "true"
    assert env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert sam.environment({"AWS_REGION": "eu-west-1"})["AWS_DEFAULT_REGION"] == "eu-west-1"


def test_dockerfile_env_block_is_the_kits_offline_env() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    block = re.search(r"^ENV (.*?)(?=^\S)", dockerfile, re.S | re.M)
    assert block is not None
    pairs = dict(item.split("=", 1) for item in block.group(1).replace("\\", " ").split())
    assert pairs == settings.kit_env(settings.IMAGE_CACHE_ROOT, offline=True)


def test_dockerfile_layers_are_in_the_order_that_keeps_code_changes_small() -> None:
    lines = [
        line for line in (REPO / "Dockerfile").read_text().splitlines() if line and not line[0].isspace()
    ]
    instructions = [line.split()[0] for line in lines if not line.startswith("#")]
    assert instructions == ["ARG", "ARG", "FROM", "FROM", "ENV", "COPY", "COPY", "COPY", "CMD"]
    assert "ARG ASSET_IMAGE" in lines  # no default: `nox -s build` names the project's asset image
    copies = [line for line in lines if line.startswith("COPY")]
    assert copies == ["COPY --from=assets / /", "COPY deps/ /", "COPY code/ /"]
    assert lines[-1] == f'CMD ["{config.load().handler}"]'  # the handler [tool.lambdakit] names


def test_kit_dockerfiles_use_no_buildkit_only_syntax() -> None:
    for path in (REPO / "Dockerfile", REPO / "lambda-base" / "Dockerfile"):
        text = path.read_text()
        assert "--chmod" not in text and "--mount" not in text and "# syntax=" not in text, path


def test_build_refuses_a_dockerfile_whose_cmd_is_not_the_configured_handler(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text('FROM x\nCMD ["inference.handler.lambda_handler"]\n')
    build.check_handler(dockerfile, config.ProjectConfig())
    with pytest.raises(ConfigError, match=r'set CMD \["app.main.handle"\]'):
        build.check_handler(dockerfile, config.ProjectConfig(handler="app.main.handle"))
    build.check_handler(REPO / "Dockerfile")  # this repository's


def test_a_missing_or_non_utf8_dockerfile_is_one_line(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    with pytest.raises(ConfigError, match=r"Dockerfile is missing; .* restore it or fix Metadata"):
        build.check_handler(dockerfile, config.ProjectConfig())
    dockerfile.write_bytes(b"FROM x\n# caf\xe9\n")
    with pytest.raises(ConfigError, match=r"Dockerfile is not UTF-8 text \(byte 0xe9 at offset 12\)"):
        build.check_handler(dockerfile, config.ProjectConfig())


def test_the_code_layer_holds_every_package_of_src_but_the_kits(tmp_path: Path) -> None:
    for package in ("lambdakit", "inference", "helpers"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "notes").mkdir()  # no __init__.py: not a package
    assert build.code_packages(tmp_path, config.ProjectConfig()) == ["helpers", "inference"]
    with pytest.raises(ConfigError, match="holds no package 'app'"):
        build.code_packages(tmp_path, config.ProjectConfig(handler="app.main.handle"))
