"""Per-package indexes from the lock: each package is fetched from the index the Pipfile binds it to.

The case it exists for: `torch = {version = "==2.5.1", index = "pytorch-cpu"}` must come from the PyTorch
CPU index, not PyPI (whose torch pulls gigabytes of CUDA). Here two local PEP 503 indexes (file://) stand
in, each serving small real wheels; PyPI's stand-in also serves an impostor of the bound package (same
name and version, other content), so a fetch from the wrong index fails the lock's hash check.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from lambdakit.core import lock
from lambdakit.core.errors import CommandFailed, ConfigError
from lambdakit.images import hostinstall


def make_wheel(index: Path, project: str, content: str) -> str:
    """A pure-Python wheel of PROJECT 1.0 in INDEX/PROJECT/ with its index.html; returns its sha256."""
    module = project.replace("-", "_")
    folder = index / project
    folder.mkdir(parents=True)
    wheel = folder / f"{module}-1.0-py3-none-any.whl"
    files = {
        f"{module}/__init__.py": f"ORIGIN = {content!r}\n",
        f"{module}-1.0.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {project}\nVersion: 1.0\n",
        f"{module}-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = [f"{name},sha256={_b64sha(data)},{len(data)}" for name, data in files.items()]
    files[f"{module}-1.0.dist-info/RECORD"] = "\n".join([*record, f"{module}-1.0.dist-info/RECORD,,"]) + "\n"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    (folder / "index.html").write_text(f'<a href="{wheel.name}#sha256={digest}">{wheel.name}</a>\n')
    return digest


def _b64sha(data: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data.encode()).digest()).rstrip(b"=").decode()


@pytest.fixture
def indexes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """pip's configured index (PyPI's stand-in) and the bound one; the wheels' sha256 by role."""
    pypi, cpu = tmp_path / "pypi", tmp_path / "cpu"
    digests = {
        "plain": make_wheel(pypi, "lkfix-plain", "pypi"),
        "impostor": make_wheel(pypi, "lkfix-torchlike", "pypi: the wrong build"),
        "bound": make_wheel(cpu, "lkfix-torchlike", "cpu index"),
    }
    monkeypatch.setenv("PIP_INDEX_URL", pypi.as_uri())
    monkeypatch.setenv("PIP_CACHE_DIR", str(tmp_path / "pip-cache"))
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    return {**digests, "pypi": pypi.as_uri(), "cpu": cpu.as_uri()}


def write_lock(repo: Path, indexes: dict[str, str], bind: bool) -> None:
    torchlike: dict[str, object] = {"version": "==1.0", "hashes": [f"sha256:{indexes['bound']}"]}
    if bind:
        torchlike["index"] = "pytorch-cpu"
    document = {
        "_meta": {
            "sources": [
                {"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": True},
                {"name": "pytorch-cpu", "url": indexes["cpu"], "verify_ssl": True},
            ]
        },
        "default": {
            "lkfix-plain": {"version": "==1.0", "hashes": [f"sha256:{indexes['plain']}"]},
            "lkfix-torchlike": torchlike,
        },
        "develop": {},
    }
    (repo / "Pipfile.lock").write_text(json.dumps(document))


def install(repo: Path, target: Path) -> None:
    groups = lock.locked_groups(("packages",), repo)
    hostinstall.install(
        target, groups, work=repo / "work", platforms=hostinstall.manylinux_platforms("x86_64")
    )


def test_a_bound_package_comes_from_its_index_and_the_rest_from_pips(
    tmp_path: Path, indexes: dict[str, str]
) -> None:
    write_lock(tmp_path, indexes, bind=True)
    assert [
        (url, [line.split(" ")[0] for line in lines])
        for url, lines in lock.locked_groups(("packages",), tmp_path)
    ] == [
        (None, ["lkfix-plain==1.0"]),
        (indexes["cpu"], ["lkfix-torchlike==1.0"]),
    ]
    target = tmp_path / "deps"
    install(tmp_path, target)
    assert "cpu index" in (target / "lkfix_torchlike" / "__init__.py").read_text()
    assert "pypi" in (target / "lkfix_plain" / "__init__.py").read_text()


def test_without_the_binding_pip_takes_the_impostor_and_the_locks_hash_refuses_it(
    tmp_path: Path, indexes: dict[str, str]
) -> None:
    write_lock(tmp_path, indexes, bind=False)
    with pytest.raises(CommandFailed, match=r"(?i)hash"):
        install(tmp_path, tmp_path / "deps")


def test_a_binding_to_an_unknown_source_names_the_fix(tmp_path: Path, indexes: dict[str, str]) -> None:
    write_lock(tmp_path, indexes, bind=True)
    document = json.loads((tmp_path / "Pipfile.lock").read_text())
    document["default"]["lkfix-torchlike"]["index"] = "nightly"
    (tmp_path / "Pipfile.lock").write_text(json.dumps(document))
    with pytest.raises(ConfigError, match=r"index 'nightly'.*\[\[source\]\].*pipenv lock"):
        lock.locked_groups(("packages",), tmp_path)
