"""Pipfile.lock → pip requirements: what every nox session installs."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambdakit.core import lock
from lambdakit.core.errors import ConfigError
from lambdakit.core.lock import locked_constraints, locked_groups, locked_requirements, pipfile_requirements
from lambdakit.core.settings import REPO_ROOT
from tests import brokenfiles as broken

LOCK = {
    "_meta": {},
    "default": {
        "numpy": {
            "version": "==1.26.4",
            "hashes": ["sha256:aa", "sha256:bb"],
            "markers": "python_version >= '3.9'",
        }
    },
    "develop": {"moto": {"version": "==5.2.5", "extras": ["server"], "hashes": ["sha256:cc"]}},
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "Pipfile").write_text('[prepare-packages]\ntorch = "==2.13.0"\nonnx = "*"\n')
    write_lock(tmp_path, LOCK)
    return tmp_path


def write_lock(folder: Path, document: dict[str, object]) -> None:
    """A lock as `pipenv lock` would record it for the Pipfile in `folder` (its hash)."""
    recorded = {"hash": {"sha256": lock.pipfile_hash(folder / "Pipfile")}}
    meta = {**document.get("_meta", {}), **recorded}  # type: ignore[dict-item]
    (folder / "Pipfile.lock").write_text(json.dumps({**document, "_meta": meta}))


def test_requirements_carry_version_markers_and_hashes(repo: Path) -> None:
    assert locked_requirements(("packages",), repo) == [
        "numpy==1.26.4 ; python_version >= '3.9' --hash=sha256:aa --hash=sha256:bb"
    ]
    assert locked_requirements(("dev-packages",), repo) == ["moto[server]==5.2.5 --hash=sha256:cc"]


def test_constraints_drop_extras_and_hashes_which_pip_refuses(repo: Path) -> None:
    assert locked_constraints(("packages", "dev-packages"), repo) == [
        "numpy==1.26.4 ; python_version >= '3.9'",
        "moto==5.2.5",
    ]


def test_unlocked_category_is_read_from_the_pipfile(repo: Path) -> None:
    assert pipfile_requirements("prepare-packages", repo) == ["torch==2.13.0", "onnx"]


def test_missing_lock_or_section_names_the_fix(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="pipenv lock"):
        locked_requirements(("build-packages",), repo)
    with pytest.raises(ConfigError, match="pipenv lock"):
        locked_requirements(("packages",), tmp_path / "nowhere")


def test_the_real_lock_keeps_the_kits_tooling_out_of_the_image() -> None:
    names = {line.split("==")[0] for line in locked_requirements(("packages",), hashes=False)}
    assert not names & {"pytest", "boto3", "nox", "docker", "aws-sam-cli", "moto", "ruff", "mypy"}


def test_packages_go_to_the_index_the_lock_binds_and_pypi_to_pips_own(tmp_path: Path) -> None:
    sources = [
        {"name": "corp", "url": "https://pypi.corp.example/simple"},
        {"name": "pypi", "url": "https://pypi.org/simple/"},
        {"name": "pytorch-cpu", "url": "https://download.pytorch.org/whl/cpu"},
    ]
    lock = {
        "_meta": {"sources": sources},
        "default": {
            "internal": {"version": "==1.0"},  # no binding: the Pipfile's first source
            "numpy": {"version": "==2.0", "index": "pypi"},
            "torch": {"version": "==2.5.1", "index": "pytorch-cpu"},
        },
    }
    (tmp_path / "Pipfile.lock").write_text(json.dumps(lock))
    assert locked_groups(("packages",), tmp_path, hashes=False) == [
        (None, ["numpy==2.0"]),
        ("https://pypi.corp.example/simple", ["internal==1.0"]),
        ("https://download.pytorch.org/whl/cpu", ["torch==2.5.1"]),
    ]


def test_a_pipfile_entry_may_be_a_table_with_version_and_extras(tmp_path: Path) -> None:
    (tmp_path / "Pipfile").write_text('[prepare-packages]\nmoto = {version = "==5.2", extras = ["server"]}\n')
    assert pipfile_requirements("prepare-packages", tmp_path) == ["moto[server]==5.2"]


def test_any_lock_file_names_itself_and_the_command_that_rewrites_it(tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "Pipfile.lock").write_text('{"default": []}')
    with pytest.raises(
        ConfigError,
        match=r"tools/Pipfile.lock: default must be a table, not \[\] \(a list\); run "
        r"`PIPENV_PIPFILE=.*tools/Pipfile pipenv lock`",
    ):
        locked_requirements(("packages",), tools)


# --- broken files: one line naming the file and the key, never a traceback (issue 22) ----------------------

LOCK_KEYS: list[tuple[tuple[str | int, ...], type]] = [
    ((), dict),
    (("_meta",), dict),
    (("_meta", "sources"), list),
    (("_meta", "sources", 0), dict),
    (("_meta", "sources", 0, "name"), str),
    (("_meta", "sources", 0, "url"), str),
    (("default",), dict),
    (("default", "numpy"), dict),
    (("default", "numpy", "version"), str),
    (("default", "numpy", "hashes"), list),
    (("default", "numpy", "markers"), str),
    (("default", "numpy", "extras"), list),
    (("default", "numpy", "index"), str),
    (("develop",), dict),
    (("develop", "moto", "extras"), list),
]
FULL_LOCK = LOCK | {"_meta": {"sources": [{"name": "pypi", "url": "https://pypi.org/simple"}]}}
PIPFILE = {"prepare-packages": {"torch": "==2.13.0", "moto": {"version": "*", "extras": ["server"]}}}
PIPFILE_KEYS: list[tuple[tuple[str, ...], type | tuple[type, ...]]] = [
    (("prepare-packages",), dict),
    (("prepare-packages", "torch"), (str, dict)),  # "==2.13.0" or {version = "==2.13.0", ...}
    (("prepare-packages", "moto", "version"), str),
    (("prepare-packages", "moto", "extras"), list),
]
RELAXED = broken.examples(50)


def read_lock(repo: Path) -> object:
    return locked_groups(("packages", "dev-packages"), repo)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", r"Pipfile.lock is not valid JSON \(Expecting value: line 1, column 1\)"),
        ("[1, 2]", r"Pipfile.lock: the document must be a table, not \[1, 2\] \(a list\)"),
        ('{"develop": {}}', r"Pipfile.lock has no 'default' section \(the Pipfile's \[packages\]\)"),
        (
            '{"default": {"numpy": {"hashes": "sha256:aa"}}, "develop": {}}',
            r"default.numpy.hashes must be a list",
        ),
    ],
)
def test_a_broken_lock_is_one_line_with_the_fix(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "Pipfile.lock").write_text(text)
    with pytest.raises(ConfigError, match=message) as caught:
        read_lock(tmp_path)
    assert "pipenv lock" in str(caught.value) and len(str(caught.value).splitlines()) == 1


@RELAXED
@given(data=st.data())
def test_any_wrong_type_in_the_lock_is_one_line(tmp_path: Path, data: st.DataObject) -> None:
    key, expected = data.draw(st.sampled_from(LOCK_KEYS))
    document = broken.with_value(FULL_LOCK, key, data.draw(broken.wrong(expected)))
    (tmp_path / "Pipfile.lock").write_bytes(broken.json_document(document))
    assert broken.one_line(lambda: read_lock(tmp_path), "Pipfile.lock") is not None


@RELAXED
@given(raw=broken.broken_bytes((REPO_ROOT / "Pipfile.lock").read_bytes(), lambda n: b"[" * n))
def test_any_broken_lock_is_one_line_or_still_valid(tmp_path: Path, raw: bytes) -> None:
    (tmp_path / "Pipfile.lock").write_bytes(raw)
    broken.one_line(lambda: read_lock(tmp_path), "Pipfile.lock")


@RELAXED
@given(data=st.data())
def test_any_wrong_type_in_the_pipfile_is_one_line(tmp_path: Path, data: st.DataObject) -> None:
    key, expected = data.draw(st.sampled_from(PIPFILE_KEYS))
    document = broken.with_value(PIPFILE, key, data.draw(broken.wrong(expected)))
    (tmp_path / "Pipfile").write_bytes(broken.toml_document(document))
    read = lambda: pipfile_requirements("prepare-packages", tmp_path)  # noqa: E731
    assert broken.one_line(read, "Pipfile") is not None


@RELAXED
@given(raw=broken.broken_bytes((REPO_ROOT / "Pipfile").read_bytes(), lambda n: b"x = " + b"[" * n))
def test_any_broken_pipfile_is_one_line_or_still_valid(tmp_path: Path, raw: bytes) -> None:
    (tmp_path / "Pipfile").write_bytes(raw)
    broken.one_line(lambda: pipfile_requirements("prepare-packages", tmp_path, missing_ok=True), "Pipfile")


@pytest.mark.parametrize("folder", [REPO_ROOT, lock.KIT_TOOLS], ids=["function", "kit tools"])
def test_the_hash_is_the_one_a_real_pipenv_lock_recorded(folder: Path) -> None:
    # both locks in the repository were written by `pipenv lock` (2026.10.3)
    recorded = json.loads((folder / "Pipfile.lock").read_text())["_meta"]["hash"]["sha256"]
    assert recorded in lock.pipfile_hashes(folder / "Pipfile")
    assert lock.load_lock(folder)["_meta"]["hash"]["sha256"] == recorded


@pytest.mark.parametrize(
    ("folder", "command"),
    [
        # the demo's Pipfile has an unlocked [prepare-packages]: only the two locked categories are re-locked
        (REPO_ROOT, f"run `{lock.lock_command(REPO_ROOT)}`"),
        (lock.KIT_TOOLS, "run `PIPENV_PIPFILE=tools/Pipfile pipenv lock`"),
    ],
    ids=["function", "kit tools"],
)
def test_a_pipfile_edited_after_its_lock_is_refused_with_the_command_that_fixes_it(
    folder: Path, command: str, tmp_path: Path
) -> None:
    copy = tmp_path / folder.name
    copy.mkdir()
    shutil.copy2(folder / "Pipfile.lock", copy / "Pipfile.lock")
    (copy / "Pipfile").write_text(
        (folder / "Pipfile").read_text().replace("\n[packages]\n", '\n[packages]\nlkfix-added = "*"\n')
    )
    with pytest.raises(
        ConfigError, match=rf"Pipfile no longer matches Pipfile.lock.*{re.escape(command)}"
    ) as caught:
        locked_requirements(("packages",), copy)
    assert "\n" not in str(caught.value)


def test_a_lock_from_an_older_pipenv_with_names_as_spelled_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "Pipfile").write_text('[packages]\n"Ruamel.YAML" = "*"\n')
    canonical, as_spelled = (
        lock._pipfile_hash(__import__("tomllib").loads((tmp_path / "Pipfile").read_text()), flag)
        for flag in (True, False)
    )
    assert canonical != as_spelled
    assert lock.pipfile_hashes(tmp_path / "Pipfile") == {canonical, as_spelled}


def test_one_line_per_package_whatever_its_spelling_and_only_exact_pins(tmp_path: Path) -> None:
    (tmp_path / "Pipfile").write_text("[packages]\n")
    entry = {"version": "==0.19.1", "hashes": ["sha256:aa"]}
    write_lock(tmp_path, {"_meta": {}, "default": {"ruamel.yaml": entry}, "develop": {"ruamel-yaml": entry}})
    assert locked_requirements(("packages", "dev-packages"), tmp_path) == [
        "ruamel-yaml==0.19.1 --hash=sha256:aa"
    ]
    write_lock(tmp_path, {"_meta": {}, "default": {"boto3": {"version": ">=1.34.0,<2.0.0"}}})
    with pytest.raises(ConfigError, match=r"boto3 is not pinned with ==.*run `pipenv lock`"):
        locked_requirements(("packages",), tmp_path)


def test_the_kits_tools_lock_pins_a_current_pip_with_hashes() -> None:
    (pip,) = [line for line in locked_requirements(("packages",), lock.KIT_TOOLS) if line.startswith("pip==")]
    assert "--hash=sha256:" in pip
    assert int(pip.split("==")[1].split(".")[0]) >= 24  # the venvs' bundled 23.2 refuses pipenv's locks


def test_the_lock_command_leaves_an_unlocked_category_out(tmp_path: Path) -> None:
    (tmp_path / "Pipfile").write_text('[packages]\nnumpy = "*"\n')
    assert lock.lock_command(tmp_path) == "pipenv lock"
    (tmp_path / "Pipfile").write_text('[packages]\nnumpy = "*"\n\n[prepare-packages]\ntorch = "==2.13.0"\n')
    assert lock.lock_command(tmp_path) == 'pipenv lock --categories "packages dev-packages"'
