"""assets.lock: one form on disk, rewritten only when an entry changes, refused in one line when broken."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lambdakit.images import assetlock, pinned
from lambdakit.images.assetlock import Entry, Lock, LockError, LockMismatch

SHA = "a" * 64
ENTRY = Entry(
    repository="127.0.0.1:5000/team/tinyfn-assets",
    tag=SHA[:12],
    digest="sha256:" + "b" * 64,
    sha256=SHA,
    manifest_sha256="c" * 64,
    files=2,
    bytes=10240,
    libraries=("nltk", "tinyfn (your code)"),
)


def test_a_written_lock_reads_back_and_pulls_by_digest(tmp_path: Path) -> None:
    path = tmp_path / "assets.lock"
    assert assetlock.write(Lock({"x86_64": ENTRY}), path)
    lock = assetlock.read(path)
    assert lock is not None and lock.get("x86_64") == ENTRY and lock.get("arm64") is None
    assert ENTRY.reference == "127.0.0.1:5000/team/tinyfn-assets@sha256:" + "b" * 64
    assert ENTRY.registry == "127.0.0.1:5000"
    assert path.read_text().endswith("}\n") and json.loads(path.read_text())["version"] == 1


def test_the_same_content_leaves_the_file_untouched(tmp_path: Path) -> None:
    path = tmp_path / "assets.lock"
    assetlock.record("x86_64", ENTRY, path)
    before = path.stat().st_mtime_ns, path.read_bytes()
    assert not assetlock.record("x86_64", ENTRY, path)
    assert (path.stat().st_mtime_ns, path.read_bytes()) == before
    assert [p.name for p in tmp_path.iterdir()] == ["assets.lock"], "no temporary file left behind"


def test_recording_one_architecture_keeps_the_others(tmp_path: Path) -> None:
    path = tmp_path / "assets.lock"
    assetlock.record("x86_64", ENTRY, path)
    other = Entry(ENTRY.repository, "d" * 12, "sha256:" + "e" * 64, "d" * 64, "f" * 64)
    assert assetlock.record("arm64", other, path)
    lock = assetlock.read(path)
    assert lock is not None and lock.get("x86_64") == ENTRY and lock.get("arm64") == other
    assert list(json.loads(path.read_text())["assets"]) == ["arm64", "x86_64"]  # sorted: one form only


def test_no_file_and_an_empty_lock_both_mean_no_asset_image(tmp_path: Path) -> None:
    assert assetlock.read(tmp_path / "assets.lock") is None
    empty = assetlock.parse('{"version": 1, "assets": {}}')
    assert empty.get("x86_64") is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("not json", "is not JSON"),
        ('{"version": 7, "assets": {}}', "version 7"),
        ('{"version": 1, "assets": {"x86_64": {"repository": "r"}}}', "lacks tag, digest"),
        ('{"version": 1, "assets": []}', "must be an object"),
    ],
)
def test_a_broken_lock_is_refused_in_one_line_with_the_fix(text: str, says: str) -> None:
    with pytest.raises(LockError) as caught:
        assetlock.parse(text, "assets.lock")
    message = str(caught.value)
    assert says in message and "\n" not in message
    assert "nox -s assets -- --publish" in message or "git" in message


def test_a_tampered_digest_or_a_tagged_repository_is_refused() -> None:
    good = ENTRY.to_json()
    for field, value, says in (
        ("digest", "sha256:1234", "is not sha256:<64 hex>"),
        ("sha256", "xyz", "sha256 is not 64 hex digits"),
        ("repository", "host/name:latest", "must name no tag"),
    ):
        document = {"version": 1, "assets": {"x86_64": good | {field: value}}}
        with pytest.raises(LockError, match=re.escape(says)):
            assetlock.parse(json.dumps(document))


def test_the_summary_comes_from_the_report_of_the_same_tarball_else_the_previous_entry() -> None:
    bare = Entry(ENTRY.repository, ENTRY.tag, ENTRY.digest, SHA, ENTRY.manifest_sha256)
    report = {
        "tarball": {"sha256": SHA, "files": 3, "bytes": 99},
        "files": [
            {"library": "nltk", "shipped": True},
            {"library": "onnxruntime", "shipped": False},
            {"library": "huggingface_hub", "shipped": True},
        ],
    }
    summed = assetlock.with_summary(bare, report, None)
    assert (summed.files, summed.bytes, summed.libraries) == (3, 99, ("huggingface_hub", "nltk"))
    other_report = report | {"tarball": {"sha256": "f" * 64, "files": 1, "bytes": 1}}
    assert assetlock.with_summary(bare, other_report, ENTRY).libraries == ENTRY.libraries
    assert assetlock.with_summary(bare, None, None) == bare


def test_ecr_hosts_are_told_from_other_registries() -> None:
    assert assetlock.ecr_region("123456789012.dkr.ecr.eu-west-1.amazonaws.com") == "eu-west-1"
    assert assetlock.ecr_region("127.0.0.1:5000") is None
    assert assetlock.ecr_region("ghcr.io") is None


def test_a_pulled_image_whose_layer_or_label_is_not_the_locked_tarball_is_refused() -> None:
    layer = {"RootFS": {"Layers": [f"sha256:{SHA}"]}}
    wrong_layer = {
        "RootFS": {"Layers": ["sha256:" + "0" * 64]},
        "Config": {"Labels": {pinned.assets.SHA256_LABEL: SHA}},
    }
    wrong_label = layer | {"Config": {"Labels": {pinned.assets.SHA256_LABEL: "0" * 64}}}
    for attrs in (wrong_layer, wrong_label, layer):
        with pytest.raises(LockMismatch, match=r"is not the asset tarball assets\.lock pins") as caught:
            pinned.check("r@sha256:x", ENTRY, attrs)
        assert "\n" not in str(caught.value)
