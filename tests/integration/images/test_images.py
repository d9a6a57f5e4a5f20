"""The images on a real engine: stand-in base, asset image, function image via `sam build`, and the runs.

Everything heavy is built once per session and reused by tag: the base (`lambdakit/lambda-python:3.13`, shared
with `nox -s base-image`), then images under this area's own names (`lambdakit-test-images-*`,
`inferencefunction:lambdakit-test-images`). The asset tarball is made here from the prepared model with the
same recipe the snapshot step follows (tests/assets_fixture.py).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from lambdakit.config import template
from lambdakit.config.target import Target
from lambdakit.core import config as project_config
from lambdakit.core import proc, runtimes
from lambdakit.core.errors import ImageBuildFailed
from lambdakit.images import assets, baseimage, build, engine, platform, sam, staging
from lambdakit.runtime import explain, local
from lambdakit.runtime.environment import ExecutionEnvironment, Function, Invocation
from lambdakit.snapshot import tarball
from tests.assets_fixture import write_assets_tarball
from tests.integration.answers import assert_same_answers, dev_answer, labels_of

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests" / "fixtures"
PREFIX = "lambdakit-test-images"
FUNCTION_TAG = PREFIX  # `sam build` names the image <logical id>:<DockerTag>
SMALL = Target(memory_mb=256, timeout_s=3, ephemeral_mb=512)


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:2])


@pytest.fixture(scope="session")
def base_image() -> str:
    return baseimage.build(project_config.load().python)


@pytest.fixture(scope="session")
def asset_tarball(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache_root = model_dir.parents[2]  # <root>/huggingface/exports/<model>
    return write_assets_tarball(cache_root, model_dir, tmp_path_factory.mktemp("assets") / "assets.tar")


@pytest.fixture(scope="session")
def asset_image(asset_tarball: Path) -> assets.AssetImage:
    return assets.build(asset_tarball, repository=f"{PREFIX}-assets")


@pytest.fixture(scope="session")
def sam_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """template.yaml as shipped, with the build context and image tag moved to this session's own."""
    project = tmp_path_factory.mktemp("sam-project")
    yaml = YAML()
    document = yaml.load(template.TEMPLATE.read_text())
    metadata = document["Resources"][template.FUNCTION_ID]["Metadata"]
    metadata["DockerContext"] = str(project / "context")
    metadata["DockerTag"] = FUNCTION_TAG
    with (project / "template.yaml").open("w") as stream:
        yaml.dump(document, stream)
    return project / "template.yaml"


@pytest.fixture(scope="session")
def function_image(base_image: str, asset_image: assets.AssetImage, sam_project: Path) -> str:
    """Built the way `nox -s build` builds it: staged context, then `sam build` with parameter overrides."""
    project = project_config.load()
    tpl = template.load(sam_project, project=project)
    inputs = build.BuildInputs(
        base_image, asset_image.ref, project.runtime, tpl.target.architecture, project.handler
    )
    tag = build.build(project, tpl, inputs, platform.inspect(base_image))
    assert tag == f"inferencefunction:{FUNCTION_TAG}"
    return tag


@pytest.fixture(scope="session")
def bad_image(base_image: str) -> Iterator[str]:
    tag = f"{PREFIX}-bad:latest"
    engine.build(FIXTURES / "bad_handler", tag, buildargs={"BASE_IMAGE": base_image})
    yield tag
    engine.remove_image(tag)


@pytest.fixture(scope="session")
def faithful_limits() -> Target:
    return template.load(project=project_config.load()).target


def test_a_build_shows_its_steps_on_one_bar_and_keeps_the_builders_lines_for_debug(
    base_image: str, console_output: io.StringIO, caplog: pytest.LogCaptureFixture
) -> None:
    tag = f"{PREFIX}-progress:latest"
    caplog.set_level(logging.DEBUG, logger="lambdakit")
    engine.build(FIXTURES / "bad_handler", tag, buildargs={"BASE_IMAGE": base_image})
    try:
        shown = console_output.getvalue().splitlines()
        # ARG, FROM, COPY, CMD: every instruction counted, one finished line in a log
        assert len(shown) == 1 and shown[0].startswith(f"✓ docker build {tag} ")
        assert shown[0].split()[-2] == "4/4"
        assert "Step 3/4 : COPY bad_handler.py /var/task/" in caplog.text
    finally:
        engine.remove_image(tag)


def test_stand_in_base_is_shaped_like_the_aws_base(base_image: str) -> None:
    config = engine.client().images.get(base_image).attrs["Config"]
    assert config["Entrypoint"] == ["/lambda-entrypoint.sh"]
    assert "LAMBDA_TASK_ROOT=/var/task" in config["Env"]
    assert config["WorkingDir"] == "/var/task"
    # SnapStart's hooks as AWS's Python bases offer them (snapshot-restore-py, which awslambdaric runs)
    probe = "import sys, awslambdaric; from snapshot_restore_py import register_before_snapshot, "
    probe += "register_after_restore; print(sys.version)"
    version = engine.run_once(base_image, ["python3", "-c", probe])
    assert version.startswith(f"{project_config.load().runtime.python}.")  # [tool.lambdakit] python
    assert config["Labels"][runtimes.RUNTIME_LABEL] == project_config.load().runtime.identifier


def test_function_image_runs_the_project_python_with_current_runtime_libraries(function_image: str) -> None:
    probe = (
        "import sys, numpy, onnxruntime as o; print(sys.version.split()[0], numpy.__version__, o.__version__)"
    )
    python, numpy, onnxruntime = engine.run_once(function_image, ["python3", "-c", probe]).split()
    assert python.startswith(f"{project_config.load().runtime.python}.")
    assert version_tuple(numpy) >= (2, 0) and version_tuple(onnxruntime) >= (1, 20)


def test_a_probe_that_never_ends_gets_a_one_line_error_after_its_timeout(base_image: str) -> None:
    with pytest.raises(ImageBuildFailed, match=r"^`sleep 600` did not finish within 2 s in "):
        engine.run_once(base_image, ["sleep", "600"], timeout_s=2)


def test_asset_layer_digest_is_the_tarball_and_survives_a_rebuild(
    asset_image: assets.AssetImage, asset_tarball: Path, model_dir: Path, tmp_path: Path
) -> None:
    # GIVEN the same model files packed again into a new tarball
    again = write_assets_tarball(model_dir.parents[2], model_dir, tmp_path / "assets.tar")
    assert again.read_bytes() == asset_tarball.read_bytes()
    # WHEN the image is deleted and built again from it
    engine.remove_image(f"{asset_image.repository}:{assets.LATEST}")
    engine.remove_image(asset_image.ref)
    rebuilt = assets.build(again, repository=asset_image.repository)
    # THEN the one layer is byte-identical: its digest is the tarball's sha256, on any machine
    assert rebuilt.layer == asset_image.layer == f"sha256:{hashlib.sha256(again.read_bytes()).hexdigest()}"
    assert rebuilt.ref == f"{PREFIX}-assets:{rebuilt.sha256[:12]}"
    assert [layer.diff_id for layer in engine.layers(f"{PREFIX}-assets:latest")] == [rebuilt.layer]


def test_the_function_image_carries_the_asset_manifest(function_image: str, asset_tarball: Path) -> None:
    # the function checks the weights it loads at init against this file
    text = engine.read_file(function_image, f"/cache/{tarball.MANIFEST_NAME}")
    assert text is not None
    contents = tarball.read_contents(asset_tarball, "/cache")
    assert tarball.parse_manifest(text.decode()) == contents.manifest
    assert contents.manifest is not None and set(contents.manifest) == set(contents.files)


def test_function_image_layers_are_base_then_assets_deps_code(function_image: str, base_image: str) -> None:
    base_layers = [layer.diff_id for layer in engine.layers(base_image)]
    layers = engine.layers(function_image)
    assert [layer.diff_id for layer in layers[: len(base_layers)]] == base_layers
    assets_layer, deps_layer, code_layer = layers[len(base_layers) :]
    assert "COPY dir" in assets_layer.created_by and "in /" in assets_layer.created_by
    assert assets_layer.size > 80e6  # the model
    assert deps_layer.size > 50e6 and "torch" not in deps_layer.created_by  # onnxruntime, numpy, tokenizers
    assert code_layer.size < 1e6
    config = engine.client().images.get(function_image).attrs["Config"]
    assert config["Cmd"] == ["inference.handler.lambda_handler"]
    assert "HF_HUB_OFFLINE=1" in config["Env"] and "HF_HOME=/cache/huggingface" in config["Env"]


def test_code_only_change_rebuilds_only_the_code_layer(
    function_image: str, base_image: str, asset_image: assets.AssetImage, sam_project: Path, tmp_path: Path
) -> None:
    # GIVEN a copy of the function's source with one changed line, staged into a second context
    source = tmp_path / "src"
    shutil.copytree(REPO / "src" / "inference", source / "inference")
    handler = source / "inference" / "handler.py"
    handler.write_text(handler.read_text() + "\n# a code-only change\n")
    context = tmp_path / "context"
    shutil.copytree(sam_project.parent / "context" / "deps", context / "deps")
    project = project_config.load()
    architecture = template.load(sam_project, project=project).target.architecture
    inputs = build.BuildInputs(base_image, asset_image.ref, project.runtime, architecture, project.handler)
    staging.stage(context, build.wheel_platform(inputs), project, source)
    # WHEN it is built without the build cache (every layer made afresh)
    changed = build.build_image(f"{PREFIX}-changed:latest", inputs, context=context, nocache=True)
    try:
        before = [layer.diff_id for layer in engine.layers(function_image)]
        after = [layer.diff_id for layer in engine.layers(changed)]
        # THEN base, asset and dependency layers keep their digests; only the code layer differs
        assert after[:-1] == before[:-1]
        assert after[-1] != before[-1]
    finally:
        engine.remove_image(changed)


def faithful(image: str, limits: Target, handler: str | None = None) -> ExecutionEnvironment:
    return ExecutionEnvironment.start(
        Function(image, limits, handler=handler), name=f"{PREFIX}-{uuid.uuid4().hex[:8]}"
    )


def explained(env: ExecutionEnvironment, result: Invocation, limits: Target = SMALL) -> Invocation:
    explain.notes_for([result], limits, home=env.home())
    return result


def test_faithful_run_answers_like_python_m_inference(
    function_image: str, faithful_limits: Target, sample_events: dict[str, Path], function_python: str
) -> None:
    with faithful(function_image, faithful_limits) as env:
        for name, path in sample_events.items():
            result = explained(env, env.invoke(path.read_bytes(), name=name), faithful_limits)
            assert result.outcome == "ok", result.body
            assert result.explanations == []
            expected = dev_answer(function_python, path)
            # the dev loop (the function env) and the image (the runtime's) run the same locked releases
            assert_same_answers(result.payload, expected)
        # a bad event is an error response, and the same warm container answers the next one
        bad = env.invoke({"txt": "typo"}, name="bad")
        assert bad.outcome == "error response"
        assert bad.payload["error"]["type"] == "UnknownField"
        again = env.invoke({"text": "I was charged twice"}, name="again")
        assert labels_of(again.payload) == ["billing"]
        init_ms, peak, rss = env.init_duration_ms(), env.peak_memory_bytes(), env.runtime_peak_rss_bytes()
    assert env.cold_start_ms is not None and init_ms is not None and 0 < init_ms < env.cold_start_ms
    assert peak is not None and 50 * 2**20 < peak < faithful_limits.memory_mb * 2**20
    assert (
        rss is not None and 50 * 2**20 < rss < faithful_limits.memory_mb * 2**20
    )  # VmHWM counts shared pages


def test_the_function_sees_lambdas_limits_from_inside(bad_image: str) -> None:
    probe = (
        "import os, socket, pathlib; "
        "cg = pathlib.Path('/sys/fs/cgroup/memory/memory.limit_in_bytes'); "
        "cg = cg if cg.exists() else pathlib.Path('/sys/fs/cgroup/memory.max'); "
        "print(os.getuid(), os.access('/', os.W_OK), os.access('/tmp', os.W_OK), "
        "sorted(name for _, name in socket.if_nameindex()), int(cg.read_text()) // 2**20, "
        "os.environ['AWS_LAMBDA_FUNCTION_TIMEOUT'])"
    )
    with faithful(bad_image, SMALL, handler="bad_handler.write_tmp") as env:
        seen = env.run_in_function(["python3", "-c", probe])
    assert seen == f"993 False True ['lo'] {SMALL.memory_mb} {SMALL.timeout_s}"


def test_faithful_run_explains_a_write_to_home(bad_image: str) -> None:
    with faithful(bad_image, SMALL, handler="bad_handler.write_home") as env:
        result = explained(env, env.invoke({}, name="write_home"))
    assert result.outcome == "function error"
    assert "Read-only file system" in result.payload["errorMessage"]
    (note,) = result.explanations
    assert note.startswith("write outside /tmp: bad_handler wrote /.somelib under HOME")
    assert local.failed([result])


def test_faithful_run_allows_writes_to_tmp(bad_image: str) -> None:
    with faithful(bad_image, SMALL, handler="bad_handler.write_tmp") as env:
        result = explained(env, env.invoke({}, name="write_tmp"))
    assert result.outcome == "ok" and result.payload == {"wrote": "/tmp/somelib/state.json"}
    assert not local.failed([result])


def test_faithful_run_explains_a_network_attempt(bad_image: str) -> None:
    with faithful(bad_image, SMALL, handler="bad_handler.open_socket") as env:
        result = explained(env, env.invoke({}, name="open_socket"))
    assert result.outcome == "function error"
    (note,) = result.explanations
    assert note.startswith("network attempt: bad_handler") and "snapshot" in note


def test_faithful_run_reports_timeout_and_out_of_memory(bad_image: str) -> None:
    with faithful(bad_image, SMALL, handler="bad_handler.sleep_past_timeout") as env:
        assert env.invoke({"seconds": 0.1}).outcome == "ok"
        assert env.invoke({"seconds": SMALL.timeout_s + 2}).outcome == "timeout"
    with faithful(bad_image, SMALL, handler="bad_handler.allocate") as env:
        assert env.invoke({"mb": 16}).outcome == "ok"
        killed = env.invoke({"mb": SMALL.memory_mb + 100}, name="too_big")
        assert killed.outcome == "out of memory" and killed.failed
        # the killed runtime's peak, not the restarted one's: the cgroup reached the limit
        assert (
            killed.peak_memory_bytes is not None and killed.peak_memory_bytes > 0.9 * SMALL.memory_mb * 2**20
        )
        assert env.invoke({"mb": 16}).outcome == "ok"  # the emulator restarts the runtime, as Lambda does
        assert (env.runtime_peak_rss_bytes() or 0) < killed.peak_memory_bytes


def test_sam_local_invoke_returns_the_handlers_response(
    function_image: str, sam_project: Path, function_python: str
) -> None:
    event = REPO / "events" / "single.json"
    answer = json.loads(local.sam_local_invoke(event, sam_project))
    expected = dev_answer(function_python, event)
    assert labels_of(answer) == labels_of(expected)
    assert answer["model"] == expected["model"]


def test_sam_validate_lint_passes() -> None:
    argv = [sam.executable(), "validate", "--template-file", str(template.TEMPLATE), "--lint"]
    output = proc.run(argv, "sam validate --lint", env=sam.environment())
    assert "is a valid SAM Template" in output
