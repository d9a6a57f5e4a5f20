"""Planted secrets never ship: by location, by hard link, and by content (refused, naming the file).

Runs the real snapshot on a small pipeline that plants them in the cache root; no Docker.
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from lambdakit.core.errors import SecretInAssets
from lambdakit.snapshot import take, tarball
from lambdakit.snapshot.options import Options
from lambdakit.snapshot.records import SECRET_REFUSED
from tests.standins.pipelines.assets import PLANTS

REPO = Path(__file__).resolve().parents[3]
PIPELINE = REPO / "tests" / "standins" / "pipelines" / "assets.py"
CONFIGS = (
    "docker/config.json",  # DOCKER_CONFIG pointed into the cache root
    ".docker/config.json",
    "kaggle/kaggle.json",
    ".config/gcloud/credentials.db",
    "gcloud/application_default_credentials.json",
    ".npmrc",
    "pip/pip.conf",
    "tls/client.key",
    "tls/client-key.pem",
)


def snapshot(output: Path, prepare: str) -> dict[str, Any]:
    options = Options(
        ((sys.executable, str(PIPELINE), "load"),),
        REPO,
        output,
        env=dict(os.environ),
        prepare=((sys.executable, str(PIPELINE), *prepare.split()),),
    )
    return take.snapshot(options, Console(file=io.StringIO(), width=200))


def shipped_bytes(output: Path) -> bytes:
    return (output / "assets.tar").read_bytes()


def test_a_hard_link_to_the_hub_token_named_like_weights_never_ships(tmp_path: Path) -> None:
    report = snapshot(tmp_path, "weights token hardlink")
    assert PLANTS["hf"].encode() not in shipped_bytes(tmp_path)
    assert set(report["excluded_secrets"]) >= {
        "/cache/huggingface/token",
        "/cache/huggingface/exports/tiny/weights.bin",
    }
    link = next(f for f in report["files"] if f["path"] == "huggingface/exports/tiny/weights.bin")
    assert (link["shipped"], link["secret"]) == (False, "a hard link to /cache/huggingface/token")
    assert report["verify"]["passed"]


def test_credential_files_at_known_config_locations_never_ship(tmp_path: Path) -> None:
    report = snapshot(tmp_path, "weights " + " ".join(f"config={c}" for c in CONFIGS))
    contents = tarball.read_contents(tmp_path / "assets.tar", "/cache")
    assert sorted(contents.files) == [
        "huggingface/exports/tiny/model.onnx",
        "huggingface/exports/tiny/tokenizer.json",
    ]
    assert set(report["excluded_secrets"]) >= {f"/cache/{c}" for c in CONFIGS}


@pytest.mark.parametrize("plant", sorted(PLANTS))
def test_a_credential_inside_a_file_is_refused_naming_the_file(plant: str, tmp_path: Path) -> None:
    with pytest.raises(SecretInAssets) as refused:
        snapshot(tmp_path, f"weights plant={plant}")
    message = str(refused.value)
    assert message.startswith(f"refusing to ship /cache/huggingface/exports/tiny/{plant}.bin: it holds ")
    assert "at byte 9" in message
    # the run's report says why, and no tarball is left to ship
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["tarball"] is None and not (tmp_path / "assets.tar").exists()
    flag = next(f for f in report["flags"] if f["kind"] == "secret")
    assert flag["path"] == f"/cache/huggingface/exports/tiny/{plant}.bin" and flag["fix"].startswith(
        "refused"
    )


def test_the_cli_refuses_in_one_line(tmp_path: Path) -> None:
    snapshot_cli = [sys.executable, "-m", "lambdakit", "snapshot", "--output", str(tmp_path), "--"]
    result = subprocess.run(
        [*snapshot_cli, sys.executable, str(PIPELINE), "weights", "plant=aws", "load"],
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith(
        "error: refusing to ship /cache/huggingface/exports/tiny/aws.bin: it holds an AWS access key id"
    )
    assert len(result.stderr.strip().splitlines()) == 1


# A value with no known shape (built from pieces), handed by the caller's environment or credential files.
VALUE = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCY+EXAMPLEKEY"


def traces(value: str) -> list[bytes]:
    """VALUE as a file could hold it: plain, base64 (the part every alignment shares), hex, UTF-16."""
    raw = value.encode()
    return [raw, base64.b64encode(raw)[:40], raw.hex().encode(), value.encode("utf-16-le")]


def refused(output: Path, env: dict[str, str], copy: str) -> str:
    """The snapshot's refusal of a command that prints a credential's value, then copies it into a file."""
    variable = copy.partition(":")[0]
    options = Options(
        ((sys.executable, str(PIPELINE), "load"),),
        REPO,
        output,
        env=env,
        prepare=((sys.executable, str(PIPELINE), "weights", f"say={variable}", f"copy={copy}"),),
    )
    with pytest.raises(SecretInAssets) as refusal:
        take.snapshot(options, Console(file=io.StringIO(), width=200))
    return str(refusal.value)


def leaks(folder: Path, value: str) -> list[str]:
    """Every file under FOLDER (work folders included) that holds VALUE in any of its forms."""
    return [
        str(path)
        for path in folder.rglob("*")
        if path.is_file() and any(trace in path.read_bytes() for trace in traces(value))
    ]


@pytest.mark.parametrize(
    ("variable", "encoding"),
    [("AWS_SECRET_ACCESS_KEY", "base64"), ("HF_TOKEN", "utf16"), ("MYLIB_API_KEY", "gzip")],
)
def test_a_command_writing_a_credentials_value_into_a_config_is_refused(
    variable: str, encoding: str, tmp_path: Path
) -> None:
    # GIVEN the caller's environment holds a credential, and the command writes it, encoded, into a config
    env = {**os.environ, variable: VALUE}
    # WHEN the snapshot runs
    message = refused(tmp_path, env, f"{variable}:{encoding}:mylib/config.json")
    # THEN it is refused in one line naming the file, the credential by name and the fix, never the value
    assert message.startswith(f"refusing to ship /cache/mylib/config.json: it holds the value of ${variable}")
    assert "remove it there" in message and len(message.splitlines()) == 1
    assert not any(trace.decode("latin-1") in message for trace in traces(VALUE))
    # AND no tarball exists, and no output (report, log) holds the value in any form: the log names it
    assert (
        f"using the credential [${variable}] (and in hex [${variable} (hex-encoded)])"
        in (tmp_path / "snapshot.log").read_text()
    )
    assert not (tmp_path / "assets.tar").exists()
    report = json.loads((tmp_path / "report.json").read_text())
    config = next(f for f in report["files"] if f["path"] == "mylib/config.json")
    assert (config["shipped"], config["excluded"]) == (False, SECRET_REFUSED)
    assert leaks(tmp_path, VALUE) == []


def test_a_value_from_an_aws_profile_of_the_callers_home_is_refused_in_hex(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws/credentials").write_text(f"[default]\nregion = x\n[dev]\naws_secret_access_key = {VALUE}\n")
    env = {**os.environ, "HOME": str(home), "STANDIN_PAYLOAD": VALUE}  # no credential by its name
    message = refused(tmp_path / "out", env, "STANDIN_PAYLOAD:hex:mylib/config.json")
    assert message.startswith(
        "refusing to ship /cache/mylib/config.json: it holds the value of aws_secret_access_key [dev] in "
        "~/.aws/credentials (hex-encoded) at byte "
    )
    assert leaks(tmp_path / "out", VALUE) == []


def test_a_file_named_after_a_credentials_value_is_refused_without_printing_it(tmp_path: Path) -> None:
    # GIVEN a command that names a file (and a link's target) after a credential's value, slashes and all
    env = {**os.environ, "MY_SERVICE_PASSWORD": VALUE}
    options = Options(
        ((sys.executable, str(PIPELINE), "load"),),
        REPO,
        tmp_path,
        env=env,
        prepare=((sys.executable, str(PIPELINE), "weights", "named=MY_SERVICE_PASSWORD:mylib/by-name"),),
    )
    # WHEN the snapshot runs THEN it refuses in one line that names the link, not the value
    with pytest.raises(SecretInAssets) as refusal:
        take.snapshot(options, Console(file=io.StringIO(), width=200))
    message = str(refusal.value)
    assert message.startswith(
        "refusing to ship /cache/mylib/by-name.link: it is a link whose target has the value of "
        "$MY_SERVICE_PASSWORD (and 1 more file(s)"
    )
    assert VALUE not in message and len(message.splitlines()) == 1
    # AND the file is listed by its folder only: neither its name nor the link's target is kept or shipped
    report = (tmp_path / "report.json").read_text()
    assert VALUE not in report and VALUE.replace("/", "\\/") not in report
    assert "mylib/by-name/[a name holding a credential]" in report
    assert "has the value of $MY_SERVICE_PASSWORD in its path" in report
    assert not (tmp_path / "assets.tar").exists()
