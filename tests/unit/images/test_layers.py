"""Staged folders are byte-stable, and image history entries are read correctly."""

from __future__ import annotations

import sys
from pathlib import Path

from lambdakit.images import engine, hostinstall


def make_package(root: Path) -> None:
    (root / "pkg" / "sub").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("VALUE = 1\n")
    (root / "pkg" / "sub" / "mod.py").write_text("def f():\n    return 2\n")
    (root / "pkg" / "tool.sh").write_text("#!/bin/sh\n")
    (root / "pkg" / "tool.sh").chmod(0o700)


def test_normalised_trees_are_identical_whenever_the_content_is(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for root in (first, second):
        make_package(root)
        hostinstall.compile_bytecode(root)
        hostinstall.normalise_tree(root)
    assert hostinstall.tree_digest(first) == hostinstall.tree_digest(second)
    for path in [first, *first.rglob("*")]:
        assert path.stat().st_mtime == 0
    assert (first / "pkg" / "tool.sh").stat().st_mode & 0o777 == 0o755  # executable for Lambda's uid
    assert (first / "pkg" / "__init__.py").stat().st_mode & 0o777 == 0o644
    (second / "pkg" / "__init__.py").write_text("VALUE = 2\n")
    assert hostinstall.tree_digest(first) != hostinstall.tree_digest(second)


def test_bytecode_is_hash_based_so_it_needs_no_source_mtime(tmp_path: Path) -> None:
    make_package(tmp_path)
    hostinstall.compile_bytecode(tmp_path)
    (pyc,) = (tmp_path / "pkg" / "sub" / "__pycache__").glob(f"mod.{sys.implementation.cache_tag}.pyc")
    flags = int.from_bytes(pyc.read_bytes()[4:8], "little")
    assert flags == 0b01  # hash-based, unchecked: valid in a read-only image whatever the mtimes


def test_parent_folders_of_a_staged_path_get_mtime_zero(tmp_path: Path) -> None:
    deep = tmp_path / "deps" / "var" / "task"
    deep.mkdir(parents=True)
    hostinstall.normalise_parents(deep, tmp_path / "deps")
    assert (tmp_path / "deps").stat().st_mtime == 0 and (tmp_path / "deps" / "var").stat().st_mtime == 0
    assert tmp_path.stat().st_mtime != 0


def test_history_entries_that_make_layers() -> None:
    assert engine.makes_layer("/bin/sh -c #(nop) COPY dir:abc in /var/task")
    assert engine.makes_layer("")  # an imported tarball
    assert engine.makes_layer("/bin/sh -c apt-get install -y x")
    assert not engine.makes_layer("/bin/sh -c #(nop)  ENV A=1")
    assert not engine.makes_layer('/bin/sh -c #(nop)  CMD ["h.f"]')
    assert engine.short_instruction("/bin/sh -c #(nop) COPY dir:" + "a" * 64 + " in / ") == (
        "COPY dir:aaaaaaaaaaaa in /"
    )


def test_bytecode_names_the_image_path_not_the_host_path(tmp_path: Path) -> None:
    import marshal

    make_package(tmp_path)
    hostinstall.compile_bytecode(tmp_path, "/var/task")
    (pyc,) = (tmp_path / "pkg" / "sub" / "__pycache__").glob(f"mod.{sys.implementation.cache_tag}.pyc")
    code = marshal.loads(pyc.read_bytes()[16:])  # noqa: S302  (our own freshly written bytecode)
    assert code.co_filename == "/var/task/pkg/sub/mod.py"
    assert str(tmp_path).encode() not in pyc.read_bytes()
