"""A function that downloads nothing, adopted into a copy of the kit: snapshot → assets → build → local
--faithful with no asset image; then, with `[tool.lambdakit] assets` naming its committed binary, that file
in the asset layer and a link to it in the code layer, answering the same.

The copy holds the kit (src/lambdakit, Dockerfile, template.yaml) and the fixture tests/fixtures/noassetfn
(stdlib only: an empty Pipfile.lock, so no pip download). Its project `noasset-it` names its images, which
the test removes.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from lambdakit.images import engine

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[3]
FIXTURE = REPO / "tests" / "fixtures" / "noassetfn"
PROJECT = "noasset-it"
HANDLER = "noassetfn.handler.lambda_handler"
BASE = "lambdakit/lambda-python:3.13"
FUNCTION_IMAGE = f"inferencefunction:{PROJECT}"
ASSET_REPOSITORY = f"{PROJECT}-assets"
LOCK = {
    "_meta": {"sources": [{"name": "pypi", "url": "https://pypi.org/simple"}]},
    "default": {},
    "develop": {},
}
EXPECTED = {"one": {"score": 5, "weights_sha256": "c8f5d0341d54", "unit": "words"}, "two": {"score": -2}}


def pyproject(assets: str = "") -> str:
    return f'[tool.lambdakit]\nproject = "{PROJECT}"\nhandler = "{HANDLER}"\n{assets}'


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The kit with the fixture adopted by the documented steps (plus the template's own Environment)."""
    engine.require_image(BASE, "run `nox -s base-image`")
    repo = tmp_path_factory.mktemp("noasset")
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REPO / "src" / "lambdakit", repo / "src" / "lambdakit", ignore=ignore)
    shutil.copytree(FIXTURE / "src" / "noassetfn", repo / "src" / "noassetfn", ignore=ignore)
    shutil.copytree(FIXTURE / "events", repo / "events")
    dockerfile = (REPO / "Dockerfile").read_text().splitlines()
    (repo / "Dockerfile").write_text("\n".join([*dockerfile[:-1], f'CMD ["{HANDLER}"]']) + "\n")
    # the function's own settings, in the function's Properties (docs/own-pipeline.md)
    text = (REPO / "template.yaml").read_text()
    head, _, rest = text.partition("      Environment:\n        Variables:\n")
    rest = rest.split("    Metadata:\n", 1)[1]
    variables = "      Environment:\n        Variables:\n          NOASSET_UNIT: words\n"
    (repo / "template.yaml").write_text(f"{head}{variables}    Metadata:\n{rest}")
    (repo / "pyproject.toml").write_text(pyproject())
    (repo / "Pipfile.lock").write_text(json.dumps(LOCK))
    shutil.copy2(REPO / "samconfig.toml", repo / "samconfig.toml")
    yield repo
    for image in (
        FUNCTION_IMAGE,
        f"{PROJECT}-function:rehearsal",
        *asset_tags(),
    ):  # rehearsal: its code change
        engine.remove_image(image)


def asset_tags() -> list[str]:
    images = docker.from_env().images.list(name=ASSET_REPOSITORY)
    return sorted(tag for image in images for tag in image.tags)


def kit(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "HF_", "NLTK", "TORCH"))}
    env |= {"PYTHONPATH": str(repo / "src"), "LAMBDAKIT_BASE_IMAGE": BASE, "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "lambdakit", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert result.returncode == 0, f"{args}: {result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def faithful_answers(repo: Path) -> dict[str, Any]:
    output = kit(repo, "local", "--faithful").stdout
    answers: dict[str, Any] = {}
    lines = output.splitlines()
    for number, line in enumerate(lines):
        if line.startswith("# ") and line.endswith("→ ok"):
            answers[line[2:].split(".json", 1)[0]] = json.loads(lines[number + 1])
    return answers


def layer_files(image: str) -> dict[str, tarfile.TarInfo]:
    """Every path of IMAGE's top layers (above the base) with its tar entry, from `docker save`."""
    base_layers = len(engine.layers(BASE))
    saved_bytes = b"".join(docker.from_env(timeout=300).images.get(image).save())
    with tarfile.open(fileobj=io.BytesIO(saved_bytes)) as saved:
        manifest = json.loads(saved.extractfile("manifest.json").read())  # type: ignore[union-attr]
        found: dict[str, tarfile.TarInfo] = {}
        for layer in manifest[0]["Layers"][base_layers:]:
            with tarfile.open(fileobj=saved.extractfile(layer)) as tar:
                found |= {member.name: member for member in tar.getmembers()}
    return found


def test_a_function_that_downloads_nothing_runs_with_no_asset_image(repo: Path) -> None:
    kit(repo, "snapshot")
    report = json.loads((repo / "build" / "assets" / "report.json").read_text())
    assert report["assets"] == "none" and report["tarball"] is None and report["verify"]["passed"]
    assert not (repo / "build" / "assets" / "assets.tar").exists()
    assert "nothing to build" in kit(repo, "assets").stdout
    assert asset_tags() == []
    built = kit(repo, "build").stdout
    assert "assets none" in built
    staged = (repo / "build" / "function" / "Dockerfile").read_text()
    assert "ASSET_IMAGE} AS" not in staged and "--from=assets" not in staged
    files = layer_files(FUNCTION_IMAGE)
    assert "var/task/noassetfn/model.json" in files and "var/task/noassetfn/weights.bin" in files
    assert not any(name.startswith("cache/") for name in files)  # no asset layer at all
    answers = faithful_answers(repo)
    assert answers["one"] == EXPECTED["one"]  # NOASSET_UNIT: the template's Environment, as Lambda sets it
    assert answers["two"]["score"] == EXPECTED["two"]["score"]


def test_the_rehearsal_deploys_and_redeploys_with_no_asset_repository(repo: Path) -> None:
    """deploy + invoke + code change + redeploy against moto and a local registry: no asset image anywhere."""
    output = kit(repo, "rehearse").stdout
    assert "no asset image: the snapshot found nothing to ship" in output
    assert "none (nothing to ship)" in output  # the deploy report's asset image row, both deploys
    assert f"{PROJECT}-assets" not in output  # no asset repository was created, nothing pushed to one
    assert "rehearsal-2" in output  # the redeployed code change answered


def test_a_named_committed_file_moves_into_the_asset_layer(repo: Path) -> None:
    (repo / "pyproject.toml").write_text(pyproject('assets = ["src/noassetfn/*.bin"]\n'))
    kit(repo, "snapshot")
    report = json.loads((repo / "build" / "assets" / "report.json").read_text())
    assert report["assets"] == "tarball"
    assert [entry["image_path"] for entry in report["code_assets"]] == [
        "/cache/code-assets/noassetfn/weights.bin"
    ]
    kit(repo, "assets")
    assert "assets noasset-it-assets:" in kit(repo, "build").stdout
    files = layer_files(FUNCTION_IMAGE)
    assert files["cache/code-assets/noassetfn/weights.bin"].isfile()  # the bytes: asset layer
    link = files["var/task/noassetfn/weights.bin"]
    assert link.issym() and link.linkname == "/cache/code-assets/noassetfn/weights.bin"  # code layer: a link
    assert files["var/task/noassetfn/model.json"].isfile()  # not named: ships with the code
    assert faithful_answers(repo)["one"] == EXPECTED["one"]
