"""`snapshot`'s default command on a project that is not the demo: its prepare hook, then every sample
event through its configured handler, then the verify (events only, offline, from the shipped files)."""

from __future__ import annotations

import io
import os
import sys
import tarfile
from pathlib import Path

from rich.console import Console

from lambdakit.core import config
from lambdakit.core.settings import IMAGE_CACHE_ROOT
from lambdakit.snapshot import take, tarball
from lambdakit.snapshot.options import Options, default_commands, prepare_commands

REPO = Path(__file__).resolve().parents[3]
FIXTURE = REPO / "tests" / "fixtures" / "tinyfn"
PROJECT = config.ProjectConfig("tinyfn", "tinyfn.handler.lambda_handler", ("python", "-m", "tinyfn.prepare"))
TOKEN = "hf_lambdakitTestTokenNeverShipped"


def test_prepare_hook_and_events_ship_their_files_and_run_offline_from_them(tmp_path: Path) -> None:
    pythonpath = os.pathsep.join([str(FIXTURE / "src"), str(REPO / "src")])
    options = Options(
        default_commands(PROJECT, FIXTURE),
        FIXTURE,
        tmp_path,
        env=dict(os.environ, PYTHONPATH=pythonpath, HF_TOKEN=TOKEN),
        prepare=prepare_commands(PROJECT),
    )
    report = take.snapshot(options, Console(file=io.StringIO(), width=200))

    assert report["prepare"] == [[sys.executable, "-m", "tinyfn.prepare"]]
    assert report["verify"]["passed"], report["verify"]["problems"]
    assert [step["command"][3] for step in report["verify"]["steps"]] == ["dev"], "verify skips the hook"
    with tarfile.open(tmp_path / "assets.tar") as tar:
        names = set(tar.getnames())
        contents = b"".join(tar.extractfile(m).read() for m in tar.getmembers() if m.isfile())  # type: ignore[union-attr]
    root = IMAGE_CACHE_ROOT.strip("/")
    assert {f"{root}/tinyfn/vocab.txt", f"{root}/nltk_data/tinyfn/model.txt"} <= names
    assert TOKEN.encode() not in contents
    files = {f["path"]: f for f in report["files"]}
    assert files["nltk_data/tinyfn/model.txt"]["library"] == "nltk"  # where nltk's data goes, by path
    assert report["tarball"]["sha256"] == tarball.sha256_of(tmp_path / "assets.tar")
