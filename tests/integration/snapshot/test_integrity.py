"""Integrity end to end, kit side: the report and the tarball's manifest record each shipped file's sha256,
and only the tarball they describe ships (`assets` and `snapshot --verify` refuse anything else).

Runs the real snapshot (sandbox, verify) on a small pipeline; no Docker: every refusal happens before the
engine is asked anything.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from lambdakit.core.errors import TarballRejected
from lambdakit.snapshot import integrity, take, tarball
from lambdakit.snapshot.options import Options
from tests.unit.images.test_engine import FakeEngine

REPO = Path(__file__).resolve().parents[3]
PIPELINE = REPO / "tests" / "standins" / "pipelines" / "assets.py"
MODEL = "huggingface/exports/tiny/model.onnx"


def snapshot(output: Path, prepare: str, run: str = "load") -> dict[str, Any]:
    """PREPARE's stages at build time (snapshot only), then RUN's (snapshot and verify)."""
    options = Options(
        ((sys.executable, str(PIPELINE), *run.split()),),
        REPO,
        output,
        env=dict(os.environ),
        prepare=((sys.executable, str(PIPELINE), *prepare.split()),),
    )
    return take.snapshot(options, Console(file=io.StringIO(), width=200))


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished, verified snapshot of the model and its tokenizer."""
    output = tmp_path_factory.mktemp("recorded")
    snapshot(output, "weights")
    return output


@pytest.fixture
def copy(recorded: Path, tmp_path: Path) -> Path:
    shutil.copytree(recorded, tmp_path / "assets")
    return tmp_path / "assets"


def flip_bytes(tar: Path, member: str, count: int = 16) -> None:
    """Overwrite COUNT bytes in the middle of MEMBER's data, in place, as a bad disk or copy would."""
    with tarfile.open(tar) as archive:
        info = archive.getmember(f"cache/{member}")
    data = bytearray(tar.read_bytes())
    at = info.offset_data + info.size // 2
    data[at : at + count] = bytes(b ^ 0xFF for b in data[at : at + count])
    tar.write_bytes(bytes(data))


def assets_cli(tar: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambdakit", "assets", "--tarball", str(tar)],
        env={**os.environ, "PYTHONPATH": str(REPO / "src"), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_report_and_the_manifest_record_each_shipped_files_sha256(recorded: Path, tmp_path: Path) -> None:
    report = json.loads((recorded / "report.json").read_text())
    digests = integrity.shipped_digests(report)
    subprocess.run([sys.executable, str(PIPELINE), "weights"], env={"HF_HOME": str(tmp_path)}, check=True)
    source = (tmp_path / "exports/tiny/model.onnx").read_bytes()
    assert digests[MODEL] == hashlib.sha256(source).hexdigest()
    assert set(digests) == {MODEL, "huggingface/exports/tiny/tokenizer.json"}
    contents = tarball.read_contents(recorded / "assets.tar", "/cache")
    assert contents.manifest == digests
    assert report["tarball"]["manifest"] == "/cache/SHA256SUMS"
    assert (
        integrity.check_tarball(recorded / "assets.tar", recorded / "report.json")
        == report["tarball"]["sha256"]
    )


def test_assets_refuses_a_tarball_with_flipped_bytes_naming_the_file(copy: Path) -> None:
    flip_bytes(copy / "assets.tar", MODEL)
    result = assets_cli(copy / "assets.tar")
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {copy / 'assets.tar'} cannot ship: {MODEL} has sha256 ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "run `nox -s snapshot` again" in result.stderr


def test_a_consistent_forgery_is_still_caught_by_the_report(copy: Path, tmp_path: Path) -> None:
    # GIVEN a tarball rebuilt from altered files, with a manifest that matches them
    tarball.extract(copy / "assets.tar", tmp_path / "x")
    cache = tmp_path / "x" / "cache"
    (cache / MODEL).write_bytes(b"other weights")
    (cache / tarball.MANIFEST_NAME).unlink()
    members = [tarball.classify(cache, p) for p in ("huggingface/exports/tiny/model.onnx",)]
    tarball.write([m for m in members if isinstance(m, tarball.Member)], "/cache", copy / "assets.tar")
    # THEN it matches its own manifest but not the snapshot's report
    with pytest.raises(TarballRejected, match=rf"{MODEL} has sha256 .* \(per the report: changed since"):
        integrity.check_tarball(copy / "assets.tar", copy / "report.json")
    assert integrity.check_tarball(copy / "assets.tar", None)  # alone it looks whole


def test_assets_refuses_an_empty_tarball(copy: Path, tmp_path: Path) -> None:
    (copy / "assets.tar").write_bytes(b"")
    with pytest.raises(TarballRejected, match=r"is empty \(0 bytes\)"):
        integrity.check_tarball(copy / "assets.tar", copy / "report.json")
    directory = tarfile.TarInfo("cache")
    directory.type = tarfile.DIRTYPE
    with tarfile.open(tmp_path / "dirs.tar", "w") as archive:
        archive.addfile(directory)
    with pytest.raises(TarballRejected, match="holds no file"):
        integrity.check_tarball(tmp_path / "dirs.tar", None)


def test_assets_refuses_a_tarball_without_a_finished_verified_snapshot(copy: Path) -> None:
    report = json.loads((copy / "report.json").read_text())
    (copy / "report.json").write_text(json.dumps({**report, "verify": {"passed": False, "problems": ["x"]}}))
    with pytest.raises(TarballRejected, match=r"verify failed \(x\)"):
        integrity.check_tarball(copy / "assets.tar", copy / "report.json")
    (copy / "report.json").write_text(json.dumps({**report, "tarball": None}))
    with pytest.raises(TarballRejected, match="the last snapshot did not finish"):
        integrity.check_tarball(copy / "assets.tar", copy / "report.json")
    (copy / "report.json").write_text(json.dumps({**report, "schema": 1}))
    with pytest.raises(TarballRejected, match=r"another version of the kit \(schema 1, this one reads 2\)"):
        integrity.check_tarball(copy / "assets.tar", copy / "report.json")
    (copy / "report.json").unlink()
    result = assets_cli(copy / "assets.tar")
    assert result.returncode == 2 and f"there is no {copy / 'report.json'}" in result.stderr


def test_verify_alone_fails_on_a_tarball_with_flipped_bytes(copy: Path) -> None:
    flip_bytes(copy / "assets.tar", MODEL)
    result = subprocess.run(
        [sys.executable, "-m", "lambdakit", "snapshot", "--output", str(copy), "--verify"],
        env=dict(os.environ, PYTHONPATH=str(REPO / "src")),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 2
    assert f"the tarball does not match what was recorded: {MODEL} has sha256" in result.stderr


def test_a_whole_tarball_reaches_the_engine_a_silent_one_gets_one_line(copy: Path, tmp_path: Path) -> None:
    with FakeEngine(tmp_path / "docker.sock", {}) as address:
        result = assets_cli(copy / "assets.tar", env={"DOCKER_HOST": address})
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: No Docker engine answers at {address} within 5 s")
    assert len(result.stderr.strip().splitlines()) == 1
