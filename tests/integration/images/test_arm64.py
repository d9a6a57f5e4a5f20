"""The same function built for arm64 (Graviton) and run here under QEMU user emulation.

`Architectures: [arm64]` in a copy of template.yaml drives the build: aarch64 wheels onto the arm64 stand-in
base (`lambdakit/lambda-python:3.13-arm64`, built once per machine with debootstrap's second stage under QEMU,
then shared by tag, like `nox -s base-image -- --architecture arm64`), through `sam build` as `nox -s build`
does. On an x86_64 host the image runs under QEMU (`.ci/ensure-qemu` registers QEMU 10): that proves it loads
and answers like the x86_64 function; nothing here measures its speed, which is QEMU's, not Lambda's.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from lambdakit.config import template
from lambdakit.core import config
from lambdakit.images import assets, baseimage, build, emulation, engine, platform
from lambdakit.runtime import local
from tests.assets_fixture import write_assets_tarball
from tests.integration.answers import assert_same_answers, dev_answer

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[3]
PREFIX = "lambdakit-test-arm64"


@pytest.fixture(scope="module")
def arm64_base() -> str:
    emulation.require("arm64")  # the fix in the failure: `sudo bash .ci/ensure-qemu`
    return baseimage.build(config.load().python, "arm64")


@pytest.fixture(scope="module")
def arm64_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """template.yaml as shipped but for `Architectures: [arm64]`, with its own context and tag."""
    project = tmp_path_factory.mktemp("sam-arm64")
    yaml = YAML()
    document = yaml.load(template.TEMPLATE.read_text())
    function = document["Resources"][template.FUNCTION_ID]
    function["Properties"]["Architectures"] = ["arm64"]
    function["Metadata"]["DockerContext"] = str(project / "context")
    function["Metadata"]["DockerTag"] = PREFIX
    with (project / "template.yaml").open("w") as stream:
        yaml.dump(document, stream)
    return project / "template.yaml"


@pytest.fixture(scope="module")
def arm64_image(
    arm64_base: str, arm64_project: Path, model_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> str:
    tarball = write_assets_tarball(
        model_dir.parents[2], model_dir, tmp_path_factory.mktemp("assets") / "assets.tar"
    )
    asset = assets.build(tarball, repository=f"{PREFIX}-assets")
    project = config.load()
    tpl = template.load(arm64_project, project=project)
    inputs = build.resolve_inputs(project, tpl, base=arm64_base, asset=asset.ref)
    return build.build(project, tpl, inputs, platform.inspect(arm64_base))


def test_arm64_build_installs_aarch64_wheels_for_the_real_base_glibc(arm64_base: str) -> None:
    project = config.load()
    inputs = build.BuildInputs(arm64_base, None, project.runtime, "arm64", project.handler)
    target = build.wheel_platform(inputs)
    # the stand-in's glibc is trixie's 2.41; Lambda's arm64 python3.13 runs Amazon Linux 2023 (2.34)
    assert target.platforms[0] == "manylinux_2_34_aarch64"
    # its bytecode is compiled by the host's stand-in of the same Python when there is one (not under QEMU)
    assert target.interpreter.version == "3.13"
    assert target.interpreter.image in {
        arm64_base,
        baseimage.stand_in_tag("3.13", emulation.host_architecture()),
    }


def test_arm64_image_is_arm64_and_loads_its_aarch64_wheels_under_emulation(arm64_image: str) -> None:
    image = engine.require_image(arm64_image, "built by the fixture")
    assert image.attrs["Architecture"] == "arm64"  # what Lambda checks against Architectures
    probe = (
        "import platform, sys, numpy, tokenizers; "
        "print(platform.machine(), sys.version[:5], numpy.__version__)"
    )
    machine, python, numpy = engine.run_once(arm64_image, ["python3", "-c", probe]).split()
    assert (machine, python, numpy) == ("aarch64", "3.13.", "2.4.6")


def test_arm64_image_answers_like_the_x86_64_function_under_emulation(
    arm64_image: str, arm64_project: Path, sample_events: dict[str, Path], function_python: str
) -> None:
    # GIVEN two events (one text, and two behind an HTTP API): each takes seconds under QEMU, so not all six
    events = [sample_events["single"], sample_events["apigw-http-v2"]]
    # WHEN `nox -s local -- --faithful` runs them in the arm64 image, here emulated by QEMU
    limits = local.faithful_limits(template.load(arm64_project, project=config.load()).target)
    assert (
        limits.architecture == "arm64"
        and limits.timeout_s == 10 * template.load(project=config.load()).target.timeout_s
    )
    results, stats = local.run_faithful(arm64_image, limits, events, config.load().container_prefix)
    # THEN it answers as the same function and weights answer on this x86_64 host
    for path, result in zip(events, results, strict=True):
        assert result.outcome == "ok", result.body
        assert result.explanations == []
        assert_same_answers(result.payload, dev_answer(function_python, path))
    assert stats["cold_start_ms"] is not None and stats["init_duration_ms"] is not None


def test_arm64_base_refused_for_an_x86_64_template(arm64_base: str) -> None:
    from lambdakit.core.errors import ConfigError

    with pytest.raises(
        ConfigError, match=r"is an arm64 image but template\.yaml's Architectures is \[x86_64\]"
    ):
        platform.check(platform.inspect(arm64_base), config.load().runtime, "x86_64")
