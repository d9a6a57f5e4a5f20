"""report.json's content from a sandbox scanned by hand: its fields, the network grouped by host, and the
flags, whose advice names the one really responsible."""

from __future__ import annotations

import json
from pathlib import Path

from lambdakit.snapshot import netaudit, sandbox, scan
from lambdakit.snapshot.attribution import project_modules
from lambdakit.snapshot.options import Options
from lambdakit.snapshot.report import build_report, flags

FILE_FIELDS = {"path", "root", "bytes", "library", "env_var", "in_cache_root"}


def put(path: Path, data: bytes = b"x") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def options(tmp_path: Path) -> Options:
    return Options(commands=(("python", "pipeline.py"),), cwd=tmp_path, output=tmp_path / "out")


def test_report_lists_files_secrets_unknowns_network_with_the_documented_fields(
    box: sandbox.Sandbox, tmp_path: Path
) -> None:
    put(box.cache_root / "huggingface/hub/models--a--b/blobs/abc", b"w" * 10)
    put(box.cache_root / "huggingface/token", b"hf_x")
    put(box.home / ".somelib/state.json")
    put(box.home / ".aws/credentials")
    put(box.tmp / "torchinductor_root/k.py")
    events = [
        netaudit.Event("resolve", host="huggingface.co", port=443, stack=("socket", "huggingface_hub")),
        netaudit.Event(
            "connect", host="1.2.3.4", port=443, stack=("socket", "huggingface_hub", "transformers")
        ),
    ]
    records, members = scan.scan(box, events)
    report = build_report(options(tmp_path), records, events, 1.5)

    assert [m.path for m in members] == ["huggingface/hub/models--a--b/blobs/abc"]
    for entry in report["files"]:
        assert set(entry) >= FILE_FIELDS
    by_path = {f["path"]: f for f in report["files"]}
    blob = by_path["huggingface/hub/models--a--b/blobs/abc"]
    assert (blob["root"], blob["bytes"], blob["library"], blob["env_var"], blob["in_cache_root"]) == (
        "cache",
        10,
        "huggingface_hub",
        "HF_HUB_CACHE",
        True,
    )
    assert by_path["torchinductor_root/k.py"]["root"] == "tmp"
    assert sorted(report["excluded_secrets"]) == ["/cache/huggingface/token", "~/.aws/credentials"]
    assert report["unknown"] == ["~/.somelib/state.json"]
    assert {(n["host"], n["port"], n["library"], n["via"]) for n in report["network"]} == {
        ("huggingface.co", 443, "huggingface_hub", None),
        ("1.2.3.4", 443, "huggingface_hub", "transformers"),
    }
    kinds = {f["kind"] for f in report["flags"]}
    assert {"secret", "unknown_library", "outside_cache_root"} <= kinds
    outside = next(f for f in report["flags"] if f["kind"] == "outside_cache_root")
    assert outside["library"] == "torch inductor" and "TORCHINDUCTOR_CACHE_DIR" in outside["fix"]
    json.dumps(report)  # the report must serialise as is


def test_a_file_under_home_from_the_functions_code_gets_advice_for_its_code_not_a_librarys(
    box: sandbox.Sandbox,
) -> None:
    put(box.home / "scores.json")
    mine = min(project_modules())
    write = netaudit.Event("write", path=str(box.home / "scores.json"), stack=("pathlib", mine, "runpy"))
    records, _ = scan.scan(box, [write])
    flag = next(f for f in flags(records) if f["kind"] == "outside_cache_root")
    assert flag["library"] == f"{mine} (your code)"
    assert "XDG_CACHE_HOME" in flag["fix"] and "/tmp" in flag["fix"]
    assert "HF_HOME" not in flag["fix"] and "cache_dir" not in flag["fix"]


def test_a_library_the_table_does_not_know_is_still_named(box: sandbox.Sandbox) -> None:
    put(box.home / ".spacy/state")
    write = netaudit.Event("write", path=str(box.home / ".spacy/state"), stack=("pathlib", "spacy", "myfn"))
    records, _ = scan.scan(box, [write])
    assert records[0].library == "spacy"
    flag = next(f for f in flags(records) if f["kind"] == "outside_cache_root")
    assert flag["fix"].startswith("spacy wrote there")
