"""The reproducible tarball: normalised members, every parent, sorted, same bytes for the same files."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from lambdakit.core.errors import TarballRejected, TarballTooLarge
from lambdakit.snapshot import tarball


def make_tree(root: Path) -> None:
    (root / "huggingface/hub/models--a--b/blobs").mkdir(parents=True)
    (root / "huggingface/hub/models--a--b/snapshots/rev").mkdir(parents=True)
    (root / "huggingface/hub/models--a--b/blobs/abc").write_bytes(b"weights" * 100)
    (root / "huggingface/hub/models--a--b/snapshots/rev/model.bin").symlink_to("../../blobs/abc")
    (root / "nltk_data/corpora").mkdir(parents=True)
    (root / "nltk_data/corpora/words").write_text("a\nb\n")
    (root / "bin").mkdir()
    (root / "bin/tool").write_text("#!/bin/sh\n")
    (root / "bin/tool").chmod(0o700)


def members_of(root: Path) -> list[tarball.Member]:
    chosen = []
    for directory, _, files in os.walk(root):
        for name in files:
            rel = (Path(directory) / name).relative_to(root).as_posix()
            member = tarball.classify(root, rel)
            assert isinstance(member, tarball.Member)
            chosen.append(member)
    return chosen


def write(root: Path, out: Path, **kw: int) -> tarball.Written:
    return tarball.write(members_of(root), "/cache", out, **kw)


def test_two_trees_with_the_same_files_give_identical_bytes(tmp_path: Path) -> None:
    # GIVEN the same files twice, created at different times, with different modes and walk order
    make_tree(tmp_path / "a")
    shutil.copytree(tmp_path / "a", tmp_path / "b", symlinks=True)
    os.utime(tmp_path / "b/nltk_data/corpora/words", (1, 1))
    (tmp_path / "b/nltk_data/corpora/words").chmod(0o600)
    # WHEN both are packed
    first, second = write(tmp_path / "a", tmp_path / "a.tar"), write(tmp_path / "b", tmp_path / "b.tar")
    # THEN the archives are byte-identical
    assert first.sha256 == second.sha256
    assert (tmp_path / "a.tar").read_bytes() == (tmp_path / "b.tar").read_bytes()


def test_members_are_normalised_and_every_parent_directory_is_present(tmp_path: Path) -> None:
    make_tree(tmp_path / "root")
    written = write(tmp_path / "root", tmp_path / "assets.tar")
    with tarfile.open(written.path) as tar:
        infos = tar.getmembers()
    names = [i.name for i in infos]
    assert names[:3] == ["cache", "cache/SHA256SUMS", "cache/bin"]
    assert names == sorted(names, key=lambda n: n.split("/"))
    for info in infos:
        assert (info.mtime, info.uid, info.gid, info.uname, info.gname) == (0, 0, 0, "", "")
        assert not {"atime", "ctime", "mtime"} & set(info.pax_headers)
        parent = info.name.rpartition("/")[0]
        assert not parent or parent in names, f"{info.name} has no parent entry"
    modes = {i.name: (i.type, i.mode) for i in infos}
    assert modes["cache/huggingface"] == (tarfile.DIRTYPE, 0o755)
    assert modes["cache/nltk_data/corpora/words"] == (tarfile.REGTYPE, 0o644)
    assert modes["cache/bin/tool"] == (tarfile.REGTYPE, 0o755)
    link = next(i for i in infos if i.issym())
    assert link.linkname == "../../blobs/abc" and link.mode == 0o777
    assert written.files == 4 and written.bytes % tarball.RECORD == 0


def test_the_tarball_unpacks_with_its_links_resolving_inside(tmp_path: Path) -> None:
    make_tree(tmp_path / "root")
    written = write(tmp_path / "root", tmp_path / "assets.tar")
    tarball.extract(written.path, tmp_path / "out")
    model = tmp_path / "out/cache/huggingface/hub/models--a--b/snapshots/rev/model.bin"
    assert model.read_bytes() == b"weights" * 100


def test_links_out_of_the_root_and_special_files_are_rejected(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "absolute").symlink_to("/etc/passwd")
    (root / "escape").symlink_to("../../outside")
    os.mkfifo(root / "pipe")
    for name, reason in (("absolute", "outside"), ("escape", "outside"), ("pipe", "FIFO")):
        result = tarball.classify(root, name)
        assert isinstance(result, tarball.Rejected) and reason in result.reason


def test_an_absolute_link_inside_the_root_becomes_relative(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "a/b").mkdir(parents=True)
    (root / "a/target").write_text("x")
    (root / "a/b/link").symlink_to(root / "a/target")
    member = tarball.classify(root, "a/b/link")
    assert isinstance(member, tarball.Member) and member.link == "../target"


def test_a_hard_link_is_stored_as_a_regular_file(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "one").write_bytes(b"same")
    os.link(root / "one", root / "two")
    written = write(root, tmp_path / "assets.tar")
    with tarfile.open(written.path) as tar:
        assert all(m.isfile() or m.isdir() for m in tar.getmembers())
        assert tar.extractfile("cache/two").read() == b"same"  # type: ignore[union-attr]


def test_over_the_size_limit_nothing_is_written(tmp_path: Path) -> None:
    make_tree(tmp_path / "root")
    with pytest.raises(TarballTooLarge, match=r"over the .* limit.*--max-size"):
        write(tmp_path / "root", tmp_path / "assets.tar", max_bytes=4096)
    assert not list(tmp_path.glob("assets.tar*"))


@pytest.mark.parametrize("prefix", ["/cache", "/opt/ml/cache"])
def test_parents_start_at_the_image_paths_first_component(prefix: str, tmp_path: Path) -> None:
    dirs = tarball.directories_for(prefix, ["a/b/c.txt"])
    top = prefix.strip("/")
    assert dirs[0] == top.split("/")[0] and f"{top}/a/b" in dirs and f"{top}/a" in dirs


def test_the_manifest_lists_every_file_and_link_as_sha256sum_checks_them(tmp_path: Path) -> None:
    make_tree(tmp_path / "root")
    written = write(tmp_path / "root", tmp_path / "assets.tar")
    tarball.extract(written.path, tmp_path / "out")
    checked = subprocess.run(
        ["sha256sum", "--check", "--strict", tarball.MANIFEST_NAME],
        cwd=tmp_path / "out/cache",
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert sorted(line.rsplit(": ", 1)[0] for line in checked.stdout.splitlines()) == [
        "bin/tool",
        "huggingface/hub/models--a--b/blobs/abc",
        "huggingface/hub/models--a--b/snapshots/rev/model.bin",  # the link, with its blob's digest
        "nltk_data/corpora/words",
    ]
    assert written.manifest == "cache/SHA256SUMS"


def test_flipped_bytes_are_found_against_the_manifest_without_unpacking(tmp_path: Path) -> None:
    make_tree(tmp_path / "root")
    written = write(tmp_path / "root", tmp_path / "assets.tar")
    contents = tarball.read_contents(written.path, "/cache")
    assert contents.sha256 == written.sha256 and contents.manifest is not None
    assert tarball.mismatches(contents, contents.manifest) == []

    data = bytearray(written.path.read_bytes())
    at = data.index(b"weights" * 4) + 3
    data[at : at + 16] = bytes(16)
    written.path.write_bytes(bytes(data))
    damaged = tarball.read_contents(written.path, "/cache")
    problems = tarball.mismatches(damaged, contents.manifest)
    assert [p.split(" ")[0] for p in problems] == [
        "huggingface/hub/models--a--b/blobs/abc",
        "huggingface/hub/models--a--b/snapshots/rev/model.bin",
    ]


@pytest.mark.parametrize("name", ["plain.bin", "with space", "back\\slash", "new\nline"])
def test_manifest_lines_round_trip_any_file_name(name: str) -> None:
    line = tarball.sha256sum_line("ab" * 32, f"dir/{name}")
    assert tarball.parse_manifest(line) == {f"dir/{name}": "ab" * 32}
    assert line.count("\n") == 1


def test_a_file_that_changes_between_hashing_and_packing_is_refused(tmp_path: Path) -> None:
    make_tree(tmp_path / "root")
    members = [tarball.with_digest(m) for m in members_of(tmp_path / "root")]
    (tmp_path / "root/nltk_data/corpora/words").write_text("c\nd\n")  # same size, other bytes
    with pytest.raises(TarballRejected, match=r"words changed while it was being packed"):
        tarball.write(members, "/cache", tmp_path / "assets.tar")
    assert not list(tmp_path.glob("assets.tar*"))
