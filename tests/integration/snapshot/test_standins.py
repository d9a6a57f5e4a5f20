"""`snapshot` against real huggingface_hub, transformers and nltk downloads from local stand-in servers.

The Hub and the NLTK index are the stand-ins in tests/standins (127.0.0.1, no network); everything else is
real: the client libraries, the sandbox, the audit hook, the namespaces of the verify run.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from lambdakit.core import venvs
from lambdakit.core.errors import SnapshotCommandFailed, VerifyFailed
from lambdakit.snapshot import take
from lambdakit.snapshot.options import Options
from tests.standins.hfhub import HubStandIn
from tests.standins.nltkindex import NltkStandIn

PIPELINE = Path(__file__).resolve().parents[2] / "standins" / "pipelines" / "triage.py"
REPO = Path(__file__).resolve().parents[3]
# transformers, torch and nltk in one interpreter: the prepare environment (`nox -s tests` names it)
PIPELINE_PYTHON = os.environ.get(venvs.PREPARE_PYTHON_ENV, sys.executable)


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[HubStandIn, NltkStandIn]]:
    with HubStandIn() as hub, NltkStandIn() as index:
        yield hub, index


@pytest.fixture(scope="module")
def env(servers: tuple[HubStandIn, NltkStandIn]) -> dict[str, str]:
    hub, index = servers
    return dict(
        os.environ, HF_ENDPOINT=hub.url, STANDIN_NLTK_INDEX=index.index_url, PYTHONPATH=str(REPO / "src")
    )


def run(output: Path, env: dict[str, str], *stages: str, verify: bool = False) -> dict[str, Any]:
    options = Options(((PIPELINE_PYTHON, str(PIPELINE), *stages),), REPO, output, verify=verify, env=env)
    return take.snapshot(options, Console(file=io.StringIO(), width=200))


@pytest.fixture(scope="module")
def two_snapshots(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The same downloading pipeline snapshotted twice (with a token login and an unknown library's state)."""
    return [
        run(tmp_path_factory.mktemp(f"run{i}"), env, "login", "somelib", "prepare", "run") for i in (1, 2)
    ]


def files_of(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["path"]: f for f in report["files"]}


def test_hub_files_from_transformers_and_hub_downloads_are_attributed(
    two_snapshots: list[dict[str, Any]],
) -> None:
    files = files_of(two_snapshots[0])
    hub = [f for p, f in files.items() if p.startswith("huggingface/hub/models--lambdakit-test--tiny-bert/")]
    names = {Path(f["path"]).name for f in hub}
    assert {"config.json", "vocab.txt", "model.safetensors", "tokenizer_config.json"} <= names
    assert all(f["library"] == "huggingface_hub" and f["env_var"] == "HF_HUB_CACHE" for f in hub)
    assert all(f["in_cache_root"] and f["root"] == "cache" and f["shipped"] for f in hub)


def test_nltk_files_are_attributed_and_land_in_the_cache_root(two_snapshots: list[dict[str, Any]]) -> None:
    files = files_of(two_snapshots[0])
    words = files["nltk_data/corpora/tinycorpus/words"]
    assert (words["library"], words["env_var"], words["in_cache_root"], words["shipped"]) == (
        "nltk",
        "NLTK_DATA",
        True,
        True,
    )


def test_an_unknown_librarys_state_in_home_is_reported_not_dropped(
    two_snapshots: list[dict[str, Any]],
) -> None:
    report = two_snapshots[0]
    assert report["unknown"] == ["~/.somelib/state.json"]
    state = files_of(report)[".somelib/state.json"]
    assert (state["root"], state["library"], state["in_cache_root"]) == ("home", "unknown", False)
    assert any(
        f["kind"] == "unknown_library" and f["path"] == "~/.somelib/state.json" for f in report["flags"]
    )


def test_the_hub_token_is_excluded_and_listed(two_snapshots: list[dict[str, Any]]) -> None:
    report = two_snapshots[0]
    assert report["excluded_secrets"] == ["/cache/huggingface/token"]
    with tarfile.open(
        report["tarball"]["path"]
        if Path(report["tarball"]["path"]).is_absolute()
        else Path.cwd() / report["tarball"]["path"]
    ) as tar:
        names = tar.getnames()
        assert "cache/huggingface/token" not in names
        assert b"hf_standin" not in b"".join(tar.extractfile(m).read() for m in tar if m.isfile())  # type: ignore[union-attr]


def test_network_activity_is_recorded_with_the_library_that_asked(
    two_snapshots: list[dict[str, Any]], servers: tuple[HubStandIn, NltkStandIn]
) -> None:
    hub, index = servers
    seen = {(n["host"], n["port"], n["library"], n["kind"]) for n in two_snapshots[0]["network"]}
    assert ("127.0.0.1", hub.port, "huggingface_hub", "connect") in seen
    assert ("127.0.0.1", index.port, "nltk", "connect") in seen
    assert any(n["via"] == "transformers" for n in two_snapshots[0]["network"] if n["port"] == hub.port)
    assert any(method == "GET" and "/resolve/" in path for method, path, _ in hub.requests)


def test_two_snapshots_give_the_same_tarball_bytes(two_snapshots: list[dict[str, Any]]) -> None:
    first, second = (r["tarball"] for r in two_snapshots)
    assert first["sha256"] == second["sha256"] and first["files"] == second["files"] > 0


def test_verify_fails_on_a_run_time_download_and_says_how_to_preload_it(
    env: dict[str, str], tmp_path: Path, servers: tuple[HubStandIn, NltkStandIn]
) -> None:
    _, index = servers
    with pytest.raises(VerifyFailed) as failed:
        run(tmp_path, env, "prepare", "lazy", verify=True)
    message = str(failed.value)
    assert f"nltk reached out to 127.0.0.1:{index.port} at run time" in message
    assert "nltk.download(PACKAGE) in the snapshot command" in message
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["verify"]["passed"] is False
    assert any(f["kind"] == "outside_cache_root" and f["library"] == "nltk" for f in report["flags"])


def test_verify_passes_once_the_pipeline_preloads(env: dict[str, str], tmp_path: Path) -> None:
    report = run(tmp_path, env, "prepare", "run", verify=True)
    assert report["verify"]["passed"] is True
    assert report["verify"]["network"] == [] and report["verify"]["writes_outside_tmp"] == []
    assert all(step["returncode"] == 0 for step in report["verify"]["steps"])


def test_a_failing_command_shows_its_last_lines(env: dict[str, str], tmp_path: Path) -> None:
    with pytest.raises(SnapshotCommandFailed, match=r"status 1(.|\n)*unknown stage 'nope'"):
        run(tmp_path, env, "nope")


def test_a_command_that_downloads_nothing_succeeds_with_no_assets(
    env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "assets.tar").write_bytes(b"an earlier run's tarball")
    report = run(tmp_path, env, verify=True)
    assert report["assets"] == "none" and report["tarball"] is None
    assert report["verify"]["passed"] is True  # rerun offline from an empty cache root
    on_disk = json.loads((tmp_path / "report.json").read_text())
    assert on_disk["assets"] == "none"
    assert not (tmp_path / "assets.tar").exists()  # removed with the report, so nothing stale can ship


def test_the_cli_reports_a_missing_command_in_one_line(env: dict[str, str], tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lambdakit", "snapshot", "--output", str(tmp_path), "--", "no-such-tool-x"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: command not found: 'no-such-tool-x'")
