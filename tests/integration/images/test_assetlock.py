"""Build from source anywhere (issue 20's Bar): two git clones of one project on one engine.

The first clone snapshots the test function (tests/fixtures/tinyfn), publishes its asset image to a local
registry (Debian's docker-registry, the rehearsal's stand-in for ECR), commits the `assets.lock` that wrote
and runs its faithful run. Its local asset image is then deleted. The second clone (`git clone` of the first:
no .cache, no build/, no asset image) builds with NO network at all for the kit's process (`unshare -n`: only
the engine reaches the registry, for the pull by digest), runs the faithful run, which must answer exactly as
the first's, and deploys to the moto stand-in, which leaves assets.lock as it was (same content, same digest).
A tampered digest, and a lock whose content does not match the image, are refused in one line.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambdakit.core import config as project_config
from lambdakit.core import lock, settings

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[3]
FIXTURE = REPO / "tests" / "fixtures" / "tinyfn"
PROJECT = "lambdakit-test-assetlock"
BASE = "lambdakit/lambda-python:3.13"  # the offline stand-in base (`nox -s base-image`)
PYPROJECT = f"""[project]
name = "tinyfn"
version = "0.1.0"

[tool.lambdakit]
project = "{PROJECT}"
handler = "tinyfn.handler.lambda_handler"
prepare = ["python", "-m", "tinyfn.prepare"]
"""
PIPFILE = '[[source]]\nurl = "https://pypi.org/simple"\nverify_ssl = true\nname = "pypi"\n\n[packages]\n'
LOCK = {
    "_meta": {"sources": [{"name": "pypi", "url": "https://pypi.org/simple"}]},
    "default": {},
    "develop": {},
}
ANSWER = re.compile(r"^# (?P<event>\S+\.json) → (?P<outcome>\S+)\n(?P<body>.*)$", re.MULTILINE)


def make_first_clone(root: Path) -> Path:
    """A git repository holding what a user's would: the kit, the function, events, template, Dockerfile."""
    repo = root / "first"
    shutil.copytree(
        REPO / "src" / "lambdakit", repo / "src" / "lambdakit", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(
        FIXTURE / "src" / "tinyfn", repo / "src" / "tinyfn", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(FIXTURE / "events", repo / "events")
    for name in ("template.yaml", "samconfig.toml", ".gitignore"):
        shutil.copy2(REPO / name, repo / name)
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    (repo / "Dockerfile").write_text(
        re.sub(r"^CMD \[.*\]$", 'CMD ["tinyfn.handler.lambda_handler"]', dockerfile, flags=re.M),
        encoding="utf-8",
    )
    (repo / "pyproject.toml").write_text(PYPROJECT)
    (repo / "Pipfile").write_text(PIPFILE)
    digest = lock.pipfile_hash(repo / "Pipfile")  # as `pipenv lock` records it
    (repo / "Pipfile.lock").write_text(
        json.dumps(LOCK | {"_meta": {**LOCK["_meta"], "hash": {"sha256": digest}}})
    )
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "the project")
    return repo


def git(repo: Path, *args: str) -> str:
    identity = ["-c", "user.name=test", "-c", "user.email=test@example.invalid"]
    return subprocess.run(
        ["git", *identity, *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


def kit(
    repo: Path, *args: str, offline: bool = False, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """`python -m lambdakit ARGS` in REPO as its nox session runs it (the ENV block on REPO/.cache); OFFLINE:
    in a network namespace of its own, where nothing but the Docker socket (a file) can be reached."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    env |= settings.kit_env(repo / ".cache") | {
        "PYTHONPATH": str(repo / "src"),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        settings.BASE_IMAGE_ENV: BASE,
        "HF_TOKEN": "hf_test",  # tinyfn's hook wants one, as a gated download would
        "NO_COLOR": "1",
    }
    settings.make_cache_dirs(repo / ".cache")
    argv = [sys.executable, "-m", "lambdakit", *args]
    started = time.monotonic()
    result = subprocess.run(
        ["unshare", "-n", *argv] if offline else argv,
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    print(f"# {repo.name}: {' '.join(args)} {time.monotonic() - started:.1f} s", flush=True)  # pytest -s
    if check:
        assert result.returncode == 0, f"{args}: {(result.stdout + result.stderr)[-3000:]}"
    return result


def answers(output: str) -> dict[str, tuple[str, dict[str, object]]]:
    """Each event's outcome and answer as the faithful run printed them."""
    return {m["event"]: (m["outcome"], json.loads(m["body"])) for m in ANSWER.finditer(output)}


def blob_reads(stand_in: Any) -> int:
    """How many blobs of the asset repository the registry served (a layer is stored compressed, under
    another digest than its diff id: count them all)."""
    from lambdakit.aws.rehearsal import registry

    log = (stand_in.workdir / registry.LOG_NAME).read_text(errors="replace")
    return len(re.findall(rf'"GET /v2/{PROJECT}-assets/blobs/sha256:[0-9a-f]{{64}} HTTP/1.1" 200', log))


def drop_local_asset_images() -> None:
    from lambdakit.images import engine

    def ours(image: Any) -> bool:  # by tag, or only by the registry digest a push or pull recorded
        names = [*image.tags, *image.attrs.get("RepoDigests", [])]
        return any(
            name.split("@")[0].rsplit("/", 1)[-1].split(":")[0] == f"{PROJECT}-assets" for name in names
        )

    client = engine.client()
    for image in [image for image in client.images.list() if ours(image)]:
        client.images.remove(image.id, force=True)  # every name and the layer: nothing left to reuse
    assert not [image for image in client.images.list() if ours(image)]


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from lambdakit.aws.rehearsal import Rehearsal
    from lambdakit.images import baseimage, engine

    baseimage.build(project_config.load().python)  # reused by tag
    drop_local_asset_images()
    with Rehearsal.start(
        region=settings.LOCAL_REGION, workdir=tmp_path_factory.mktemp("stand-in")
    ) as running:
        yield running
    drop_local_asset_images()
    for tag in (f"inferencefunction:{PROJECT}",):
        engine.remove_image(tag)


def test_a_second_clone_builds_from_the_lock_alone_and_answers_as_the_first(
    stand_in: object, tmp_path: Path
) -> None:
    registry = stand_in.registry  # type: ignore[attr-defined]
    first = make_first_clone(tmp_path)

    kit(first, "snapshot")
    published = kit(first, "assets", "--publish", "--registry", registry)
    assert "assets.lock updated" in published.stdout
    lock = json.loads((first / "assets.lock").read_text())["assets"]["x86_64"]
    assert lock["repository"] == f"{registry}/{PROJECT}-assets" and lock["files"] >= 2
    assert lock["libraries"] and lock["libraries"] == sorted(lock["libraries"])  # the report's summary
    again = kit(first, "assets", "--publish", "--registry", registry)  # same content: no diff in git
    assert "assets.lock unchanged" in again.stdout
    git(first, "add", "assets.lock")
    git(first, "commit", "-q", "-m", "pin the asset image")
    kit(first, "build")
    first_answers = answers(kit(first, "local", "--faithful").stdout)
    assert set(first_answers) == {"one.json", "three.json"}

    drop_local_asset_images()
    second = tmp_path / "second"
    git(tmp_path, "clone", "-q", str(first), str(second))
    assert not (second / ".cache").exists() and not (second / "build").exists()

    served = blob_reads(stand_in)
    built = kit(second, "build", offline=True)
    assert "pulling the one assets.lock pins" in built.stderr + built.stdout
    assert blob_reads(stand_in) >= served + 2, "the config and the layer came from the registry"
    second_answers = answers(kit(second, "local", "--faithful", offline=True).stdout)
    assert second_answers == first_answers

    kit(second, "deploy")  # to moto; its ECR is the same registry: the same image, the same digest
    assert git(second, "status", "--porcelain", "assets.lock") == "", "deploy must not move an unchanged lock"


def test_a_tampered_lock_is_refused_in_one_line_and_a_local_image_that_differs_is_named(
    stand_in: object, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from lambdakit.images import pinned

    registry = stand_in.registry  # type: ignore[attr-defined]
    repo = make_first_clone(tmp_path)
    kit(repo, "snapshot")
    kit(repo, "assets", "--publish", "--registry", registry)
    entry = json.loads((repo / "assets.lock").read_text())["assets"]["x86_64"]
    for field, value, says in (
        ("digest", "sha256:" + "0" * 64, "cannot be pulled"),
        ("sha256", "0" * 64, "is not the asset tarball assets.lock pins"),
    ):
        drop_local_asset_images()
        tampered = {"version": 1, "assets": {"x86_64": entry | {field: value}}}
        (repo / "assets.lock").write_text(json.dumps(tampered))
        result = kit(repo, "build", check=False, offline=True)
        assert result.returncode == 2, result.stdout + result.stderr
        errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1 and says in errors[0], result.stderr[-2000:]

    # a local asset image that is not the locked one: used, and the warning says how to pin it or drop it
    kit(repo, "assets")
    caplog.set_level(logging.WARNING, logger="lambdakit")
    used = pinned.resolve("x86_64", f"{PROJECT}-assets", repo / "assets.lock")
    assert used == f"{PROJECT}-assets:{entry['tag']}"
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert f"using the local asset image {used}" in warning and "nox -s assets -- --publish" in warning
    assert f"docker rmi {PROJECT}-assets:latest" in warning
