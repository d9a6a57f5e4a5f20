"""`assets` tags only an import whose one layer is the tarball's bytes: an import cut short (nox stopped
mid-import) or a tag left on another layer never names a partial image."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdakit.images import assets, engine
from lambdakit.snapshot import outputs, tarball

pytestmark = pytest.mark.docker
REPO = Path(__file__).resolve().parents[3]
NOX = "import subprocess, sys; subprocess.run(sys.argv[1:])"


@pytest.fixture
def repository() -> Iterator[str]:
    name = f"lambdakit-test-assets-{uuid.uuid4().hex[:8]}"
    yield name
    for image in engine.client().images.list(name=name):
        for tag in image.tags:
            engine.remove_image(tag)


def asset_tarball(folder: Path, size: int) -> tarball.Written:
    """A tarball as the snapshot writes it (manifest included) of SIZE random bytes, and its report."""
    root = folder / "root"
    (root / "mylib").mkdir(parents=True)
    (root / "mylib" / "weights.bin").write_bytes(os.urandom(size))
    member = tarball.classify(root, "mylib/weights.bin")
    assert isinstance(member, tarball.Member)
    written = tarball.write([member], "/cache", folder / outputs.TARBALL_NAME)
    report = {"schema": outputs.REPORT_SCHEMA, "tarball": {"sha256": written.sha256}, "verify": None}
    (folder / outputs.REPORT_NAME).write_text(json.dumps(report))
    return written


def alive(pid: str) -> bool:
    """Running (a zombie waiting for its new parent to reap it has ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def remove_nameless_imports_of(sha256: str) -> None:
    """An import the engine finished after its client left is nameless: remove it by its label."""
    label = f"{assets.SHA256_LABEL}={sha256}"
    for image in engine.client().images.list(filters={"dangling": True, "label": label}):
        engine.remove_image(image.id)


def test_a_tag_left_on_another_layer_is_imported_again(tmp_path: Path, repository: str) -> None:
    good = asset_tarball(tmp_path / "good", 4096)
    partial = asset_tarball(tmp_path / "partial", 1024)
    # GIVEN the tag of the good tarball names an image of other bytes (an import cut short, by an older kit)
    wrong = engine.import_tarball(partial.path, None, None)
    engine.tag_image(wrong, repository, assets.content_tag(good.sha256))
    # WHEN assets runs on the good tarball
    image = assets.build(good.path, repository, report=tmp_path / "good" / outputs.REPORT_NAME)
    # THEN the tag names the tarball's bytes, and the image it named before is gone
    assert engine.diff_ids(image.ref) == [f"sha256:{good.sha256}"] == [image.layer]
    assert engine.diff_ids(f"{repository}:latest") == [image.layer]
    assert engine.diff_ids(wrong) is None


def test_stopping_nox_mid_import_stops_the_import_and_tags_nothing(tmp_path: Path, repository: str) -> None:
    written = asset_tarball(tmp_path, 64 << 20)  # its upload takes a moment: the signal lands in it
    argv = [
        sys.executable,
        "-m",
        "lambdakit",
        "assets",
        "--tarball",
        str(written.path),
        "--repository",
        repository,
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    # GIVEN `nox -s assets` in the middle of its `docker import`
    with subprocess.Popen(
        [sys.executable, "-c", NOX, *argv], env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL
    ) as nox:
        assert nox.stderr is not None
        for line in nox.stderr:
            if b"docker import" in line:
                break
        children = Path(f"/proc/{nox.pid}/task/{nox.pid}/children").read_text().split()
        # WHEN nox is told to stop
        nox.send_signal(signal.SIGTERM)
        nox.wait(timeout=10)
    # THEN the assets step ends with it, and no tag names the tarball's image (nor a partial one)
    deadline = time.monotonic() + 10
    while any(map(alive, children)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(map(alive, children))
    time.sleep(2)  # what the engine still does after its client left
    assert engine.diff_ids(f"{repository}:{assets.content_tag(written.sha256)}") is None
    assert engine.diff_ids(f"{repository}:latest") is None
    remove_nameless_imports_of(written.sha256)
