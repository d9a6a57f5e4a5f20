"""Advice names the one really responsible: the library on the writing stack, the function's own code, or
the library whose refusal the output shows; a failed snapshot's first line names the root cause."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdakit.snapshot import caches, command, netaudit, refusals, sandbox


@pytest.fixture
def box(tmp_path: Path) -> sandbox.Sandbox:
    return sandbox.Sandbox(
        tmp_path / "home", tmp_path / "cache", tmp_path / "tmp", tmp_path / "a.jsonl"
    ).create()


def put(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x")


def test_a_file_the_functions_own_code_wrote_is_its_own_whatever_folder_it_chose() -> None:
    # a file the project's code writes itself into $HF_HOME is not huggingface_hub's
    who, how = command.attribute(
        "cache", "huggingface/exports/m/model.onnx", ("pathlib", "myfn", "runpy"), own={"myfn"}
    )
    assert (who.library, how) == ("myfn (your code)", "writer")
    # a library the project calls is the one that wrote, even one the table does not know
    who, _ = command.attribute("home", ".spacy/x", ("pathlib", "spacy", "myfn"), own={"myfn"})
    assert who.library == "spacy"
    who, _ = command.attribute("home", "words/x", ("pathlib", "nltk", "myfn"), own={"myfn"})
    assert (who.library, who.env_var) == ("nltk", "NLTK_DATA")
    # a download by huggingface_hub called from the same code stays the library's
    who, _ = command.attribute(
        "cache", "huggingface/hub/models--x/blob", ("huggingface_hub", "myfn"), {"myfn"}
    )
    assert who.library == "huggingface_hub"


def test_an_export_renamed_into_place_is_its_writers_not_the_path_librarys(box: sandbox.Sandbox) -> None:
    # GIVEN the demo's prepare: files written in a scratch folder, the folder renamed into $HF_HOME/exports
    export = box.cache_root / "huggingface/exports/m-onnx"
    put(export / "model.onnx")
    put(export / "tokenizer.json")
    mine = min(command.project_modules())  # this repository's function package (the demo: inference)
    rename = netaudit.Event("write", path=str(export), stack=("pathlib", mine, "runpy"))
    # WHEN the sandbox is scanned
    records, members = command.scan(box, [rename])
    # THEN both files are the function's own, and they ship
    assert {r.path: r.library for r in records} == {
        "huggingface/exports/m-onnx/model.onnx": f"{mine} (your code)",
        "huggingface/exports/m-onnx/tokenizer.json": f"{mine} (your code)",
    }
    assert len(members) == 2


def test_a_file_under_home_from_the_functions_code_gets_advice_for_its_code_not_a_librarys(
    box: sandbox.Sandbox,
) -> None:
    put(box.home / "scores.json")
    mine = min(command.project_modules())
    write = netaudit.Event("write", path=str(box.home / "scores.json"), stack=("pathlib", mine, "runpy"))
    records, _ = command.scan(box, [write])
    flag = next(f for f in command.flags(records) if f["kind"] == "outside_cache_root")
    assert flag["library"] == f"{mine} (your code)"
    assert "XDG_CACHE_HOME" in flag["fix"] and "/tmp" in flag["fix"]
    assert "HF_HOME" not in flag["fix"] and "cache_dir" not in flag["fix"]


def test_a_library_the_table_does_not_know_is_still_named(box: sandbox.Sandbox) -> None:
    put(box.home / ".spacy/state")
    write = netaudit.Event("write", path=str(box.home / ".spacy/state"), stack=("pathlib", "spacy", "myfn"))
    records, _ = command.scan(box, [write])
    assert records[0].library == "spacy"
    flag = next(f for f in command.flags(records) if f["kind"] == "outside_cache_root")
    assert flag["fix"].startswith("spacy wrote there")


def test_a_download_at_run_time_of_shipped_data_asks_to_stop_downloading_not_to_preload() -> None:
    entry = {"library": "nltk", "host": "127.0.0.1", "port": 8765, "via": None}
    assert "pre-load it: call nltk.download" in command.reach_out_problem(entry)
    shipped = command.reach_out_problem(entry, {"nltk"})
    assert "although its files are shipped" in shipped and "pre-load" not in shipped


@pytest.mark.parametrize(
    ("line", "library"),
    [
        (
            "[nltk_data] Error loading vader_lexicon: <urlopen error pathsec.urlopen: no validated "
            "address for host '127.0.0.1'; refusing to connect by unvalidated hostname>",
            "nltk",
        ),
        (
            "huggingface_hub.errors.OfflineModeIsEnabled: Cannot reach https://huggingface.co/api/models/x: "
            "offline mode is enabled. To disable it, please unset the `HF_HUB_OFFLINE` environment variable.",
            "huggingface_hub",
        ),
        (
            'Downloading: "https://download.pytorch.org/models/resnet18-f37072fd.pth" to /cache/torch/x.pth',
            "torch hub",
        ),
        (
            "ValueError: unable to read local cache '/cache/gensim-data/information.json' during fallback, "
            "connect to the Internet and retry",
            "gensim",
        ),
    ],
)
def test_each_librarys_refusal_is_recognised(line: str, library: str) -> None:
    found = refusals.find(["some output", line])
    assert [r.library for r in found] == [library]
    assert "nox -s snapshot" in found[0].fix


def test_the_root_cause_is_the_refused_target_or_the_http_status() -> None:
    network = [{"kind": "connect", "host": "127.0.0.1", "port": 41234, "library": "huggingface_hub"}]
    lines = [
        "NewConnectionError: Failed to establish a new connection: [Errno 111] Connection refused",
        "LookupError: the last line of a traceback that says nothing",
    ]
    assert refusals.root_cause(lines, network) == "127.0.0.1:41234 (huggingface_hub) refused the connection"
    http = [
        "requests.exceptions.HTTPError: 404 Client Error: Not Found for url: http://127.0.0.1:9/x/resolve/main/a"
    ]
    assert refusals.root_cause(http) == "HTTP 404 for http://127.0.0.1:9/x/resolve/main/a"
    assert refusals.root_cause(["ValueError: boom"]) is None


def test_a_failed_snapshots_first_line_names_the_root_cause_found_in_the_log(tmp_path: Path) -> None:
    log = tmp_path / "snapshot.log"
    log.write_text("ConnectionRefusedError: [Errno 111] Connection refused\n" + "noise\n" * 40)
    failed = sandbox.StepResult(
        ("python", "-m", "lambdakit", "dev"), 1, 1.0, ("LookupError: Resource not found",)
    )
    network = [{"kind": "connect", "host": "127.0.0.1", "port": 8765, "library": "nltk"}]
    first = str(command.failure(failed, log, "snapshot", network)).splitlines()[0]
    assert "127.0.0.1:8765 (nltk) refused the connection" in first


def test_own_code_is_every_package_and_module_of_src_but_the_kit(tmp_path: Path) -> None:
    for package in ("lambdakit", "myfn"):
        put(tmp_path / package / "__init__.py")
    put(tmp_path / "helpers.py")
    put(tmp_path / "data" / "x.json")
    assert command.project_modules(tmp_path) == {"myfn", "helpers"}
    assert caches.own_code("myfn") == "myfn (your code)"
