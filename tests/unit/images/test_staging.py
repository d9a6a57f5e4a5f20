"""Staging the build context: the Dockerfile the build copies (its CMD, its asset stage), the code layer's
packages and asset links, and the advice on large committed files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lambdakit.core import config, settings
from lambdakit.core.errors import ConfigError
from lambdakit.images import hostinstall, staging

REPO = Path(__file__).resolve().parents[3]
PROJECT = config.load()  # this repository's settings, as a command loads them once


def test_the_staged_dockerfile_drops_only_the_asset_stage_when_there_are_no_assets(tmp_path: Path) -> None:
    context = tmp_path / "build" / "function"
    with_assets = staging.stage_dockerfile(context, context / "Dockerfile", True, PROJECT.handler)
    assert with_assets.read_text() == (REPO / "Dockerfile").read_text()
    without = staging.stage_dockerfile(context, context / "Dockerfile", False, PROJECT.handler).read_text()
    removed = set((REPO / "Dockerfile").read_text().splitlines()) - set(without.splitlines())
    assert removed == {"FROM ${ASSET_IMAGE} AS assets", "COPY --from=assets / /"}
    instructions = [line.split()[0] for line in without.splitlines() if line and line[0].isalpha()]
    assert instructions == ["ARG", "ARG", "FROM", "ENV", "COPY", "COPY", "CMD"]  # one stage: the function
    staging.check_handler(context / "Dockerfile", PROJECT.handler)


def test_the_staged_dockerfile_runs_the_configured_handler(tmp_path: Path) -> None:
    # a function of its own package names its handler in pyproject alone: the Dockerfile is the kit's
    handler = "irisapp.app.lambda_handler"
    context = tmp_path / "build" / "function"
    for with_assets in (True, False):
        staged = staging.stage_dockerfile(context, context / "Dockerfile", with_assets, handler).read_text()
        assert staging.CMD_RE.findall(staged) == [handler]
        staging.check_handler(context / "Dockerfile", handler)
    assert staging.CMD_RE.findall((REPO / "Dockerfile").read_text()) == [config.DEFAULT_HANDLER]  # untouched
    assert staging.with_handler("FROM x\n", "a.b") == "FROM x\n"  # no CMD: left to check_handler to refuse


def test_a_template_pointing_at_the_source_dockerfile_cannot_build_without_assets(tmp_path: Path) -> None:
    context = tmp_path / "build" / "function"
    source = REPO / "Dockerfile"
    assert staging.stage_dockerfile(context, source, True, PROJECT.handler) == source  # used as it is
    with pytest.raises(ConfigError, match="set `Dockerfile: Dockerfile`"):
        staging.stage_dockerfile(context, source, False, PROJECT.handler)


def test_large_committed_files_get_a_one_line_suggestion(tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "app" / "__pycache__").mkdir(parents=True)
    (source / "app" / "model.onnx").write_bytes(b"\0" * 2000)
    (source / "app" / "small.json").write_bytes(b"{}")
    (source / "app" / "linked.onnx").write_bytes(b"\0" * 2000)  # named in `assets`: ships as a link
    (source / "app" / ".scratch.bin").write_bytes(b"\0" * 2000)  # hidden: never copied
    (source / "app" / "__pycache__" / "big.pyc").write_bytes(b"\0" * 2000)
    (source / "notes").mkdir()
    (source / "notes" / "big.txt").write_bytes(b"\0" * 2000)  # no package of the code layer
    advice = staging.size_advice(source, ["app"], {"app/linked.onnx"}, threshold=1000)
    assert len(advice) == 1 and "\n" not in advice[0]
    assert advice[0].startswith("src/app/model.onnx (2.0 KB) ships in the code layer")
    assert 'assets = ["src/app/model.onnx"]' in advice[0]
    assert staging.size_advice(source, ["app"]) == []  # the module's threshold: 50 MB
    assert staging.LARGE_FILE_BYTES == 50 * 1000**2


def test_named_asset_files_leave_the_code_layer_as_links_into_the_asset_layer(tmp_path: Path) -> None:
    source = tmp_path / "src" / "app"
    source.mkdir(parents=True)
    (source / "model.onnx").write_bytes(b"weights")
    (source / "handler.py").write_text("")
    links = staging.code_asset_links(["app/model.onnx"])
    assert links == {"app/model.onnx": "/cache/code-assets/app/model.onnx"}
    code = tmp_path / "code" / "var" / "task" / "app"
    hostinstall.copy_package(source, code, links={"model.onnx": links["app/model.onnx"]})
    link = code / "model.onnx"
    assert link.is_symlink() and str(link.readlink()) == "/cache/code-assets/app/model.onnx"
    assert link.lstat().st_mtime == 0  # the code layer stays reproducible
    assert (code / "handler.py").is_file()


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
    assert lines[-1] == f'CMD ["{PROJECT.handler}"]'  # the handler [tool.lambdakit] names


def test_kit_dockerfiles_use_no_buildkit_only_syntax() -> None:
    for path in (REPO / "Dockerfile", REPO / "lambda-base" / "Dockerfile"):
        text = path.read_text()
        assert "--chmod" not in text and "--mount" not in text and "# syntax=" not in text, path


def test_build_refuses_a_dockerfile_whose_cmd_is_not_the_configured_handler(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text('FROM x\nCMD ["inference.handler.lambda_handler"]\n')
    staging.check_handler(dockerfile, config.DEFAULT_HANDLER)
    with pytest.raises(ConfigError, match=r'set CMD \["app.main.handle"\]'):
        staging.check_handler(dockerfile, "app.main.handle")
    staging.check_handler(REPO / "Dockerfile", PROJECT.handler)  # this repository's


def test_a_missing_or_non_utf8_dockerfile_is_one_line(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    with pytest.raises(ConfigError, match=r"Dockerfile is missing; .* restore it or fix Metadata"):
        staging.check_handler(dockerfile, config.DEFAULT_HANDLER)
    dockerfile.write_bytes(b"FROM x\n# caf\xe9\n")
    with pytest.raises(ConfigError, match=r"Dockerfile is not UTF-8 text \(byte 0xe9 at offset 12\)"):
        staging.check_handler(dockerfile, config.DEFAULT_HANDLER)


def test_the_code_layer_holds_every_package_of_src_but_the_kits(tmp_path: Path) -> None:
    for package in ("lambdakit", "inference", "helpers"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "notes").mkdir()  # no __init__.py: not a package
    assert staging.code_packages(tmp_path, config.ProjectConfig()) == ["helpers", "inference"]
    with pytest.raises(ConfigError, match="holds no package 'app'"):
        staging.code_packages(tmp_path, config.ProjectConfig(handler="app.main.handle"))
