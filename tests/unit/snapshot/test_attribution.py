"""Attribution names the one really responsible: the library on the writing stack, the function's own code,
the writer of a folder renamed into place, or the library that wrote the download a file was unpacked
beside."""

from __future__ import annotations

from pathlib import Path

from lambdakit.snapshot import attribution, caches, netaudit, sandbox, scan


def put(path: Path, data: bytes = b"x") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_a_file_the_functions_own_code_wrote_is_its_own_whatever_folder_it_chose() -> None:
    # a file the project's code writes itself into $HF_HOME is not huggingface_hub's
    who, how = attribution.attribute(
        "cache", "huggingface/exports/m/model.onnx", ("pathlib", "myfn", "runpy"), own={"myfn"}
    )
    assert (who.library, how) == ("myfn (your code)", "writer")
    # a library the project calls is the one that wrote, even one the table does not know
    who, _ = attribution.attribute("home", ".spacy/x", ("pathlib", "spacy", "myfn"), own={"myfn"})
    assert who.library == "spacy"
    who, _ = attribution.attribute("home", "words/x", ("pathlib", "nltk", "myfn"), own={"myfn"})
    assert (who.library, who.env_var) == ("nltk", "NLTK_DATA")
    # a download by huggingface_hub called from the same code stays the library's
    who, _ = attribution.attribute(
        "cache", "huggingface/hub/models--x/blob", ("huggingface_hub", "myfn"), {"myfn"}
    )
    assert who.library == "huggingface_hub"


def test_an_export_renamed_into_place_is_its_writers_not_the_path_librarys(box: sandbox.Sandbox) -> None:
    # GIVEN the demo's prepare: files written in a scratch folder, the folder renamed into $HF_HOME/exports
    export = box.cache_root / "huggingface/exports/m-onnx"
    put(export / "model.onnx")
    put(export / "tokenizer.json")
    mine = min(attribution.project_modules())  # this repository's function package (the demo: inference)
    rename = netaudit.Event("write", path=str(export), stack=("pathlib", mine, "runpy"))
    # WHEN the sandbox is scanned
    records, members = scan.scan(box, [rename])
    # THEN both files are the function's own, and they ship
    assert {r.path: r.library for r in records} == {
        "huggingface/exports/m-onnx/model.onnx": f"{mine} (your code)",
        "huggingface/exports/m-onnx/tokenizer.json": f"{mine} (your code)",
    }
    assert len(members) == 2


def test_files_unpacked_beside_a_download_go_to_the_library_that_wrote_it(box: sandbox.Sandbox) -> None:
    put(box.tmp / "corpus-1/corpora/words.zip")
    put(box.tmp / "corpus-1/corpora/words/list")
    write = netaudit.Event(
        "write", path=str(box.tmp / "corpus-1/corpora/words.zip"), stack=("nltk", "__main__")
    )
    records, _ = scan.scan(box, [write])
    assert {(r.path, r.library, r.attributed_by) for r in records} == {
        ("corpus-1/corpora/words.zip", "nltk", "writer"),
        ("corpus-1/corpora/words/list", "nltk", "neighbour"),
    }


def test_own_code_is_every_package_and_module_of_src_but_the_kit(tmp_path: Path) -> None:
    for package in ("lambdakit", "myfn"):
        put(tmp_path / package / "__init__.py")
    put(tmp_path / "helpers.py")
    put(tmp_path / "data" / "x.json")
    assert attribution.project_modules(tmp_path) == {"myfn", "helpers"}
    assert caches.own_code("myfn") == "myfn (your code)"
