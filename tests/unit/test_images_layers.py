"""Staged folders are byte-stable, and the emulator's answers and logs are read correctly."""

from __future__ import annotations

from pathlib import Path

from lambdakit.images import engine, hostinstall
from lambdakit.runtime import local

RIE_LOG = """\
24 Nov 2026 05:35:21,276 [INFO] (rapid) INIT REPORT(durationMs: 636.232000)
05:35:21,286 [INFO] (rapid) INVOKE RTDONE(status: success, produced bytes: 0, duration: 9.834000ms)
END RequestId: 9f67820a
REPORT RequestId: 9f67820a\tInit Duration: 0.07 ms\tDuration: 646.60 ms\tBilled Duration: 647 ms
"""


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
    (pyc,) = (tmp_path / "pkg" / "sub" / "__pycache__").glob("mod.cpython-311.pyc")
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


def test_emulator_log_gives_init_and_invoke_durations() -> None:
    assert local.invoke_duration_ms(RIE_LOG) == 9.834
    assert local.invoke_duration_ms("REPORT RequestId: x\tDuration: 2.36 ms\tBilled") == 2.36
    assert local.invoke_duration_ms("nothing") is None


def test_emulator_answers_are_classified() -> None:
    assert local.classify(200, '{"label": "billing"}') == "ok"
    assert local.classify(200, '{"error": {"type": "UnknownField"}}') == "error response"
    assert local.classify(200, '{"statusCode": 400, "body": "{}"}') == "error response"
    assert local.classify(200, '{"errorMessage": "boom", "errorType": "OSError"}') == "function error"
    assert local.classify(200, "Task timed out after 2.00 seconds") == "timeout"
    killed = '{"errorType":"Runtime.ExitError","errorMessage":"Runtime exited with error: signal: killed"}'
    assert local.classify(502, killed) == "out of memory"
    assert (
        local.classify(502, '{"errorType":"Runtime.ExitError","errorMessage":"exit status 1"}') == "crashed"
    )
    assert local.classify(0, "") == "timeout"


def test_a_read_only_write_is_attributed_to_the_library_and_its_variable() -> None:
    text = (
        "[ERROR] OSError: [Errno 30] Read-only file system: '/home/sbx/.cache/matplotlib'"
        'Traceback:  File "/var/task/matplotlib/__init__.py", line 5, in get_cachedir'
    )
    (note,) = local.explain(text, home="/home/sbx")
    assert note.startswith("write outside /tmp: matplotlib wrote /home/sbx/.cache/matplotlib under HOME")
    assert "MPLCONFIGDIR" in note


def test_a_write_into_the_cache_root_asks_for_a_preload() -> None:
    (note,) = local.explain("[Errno 30] Read-only file system: '/cache/nltk_data/corpora'", home="/")
    assert "nltk" in note and "in the cache root" in note and "nox -s snapshot" in note


def test_network_attempts_name_the_library_from_the_traceback() -> None:
    text = (
        '{"errorMessage": "[Errno -3] Temporary failure in name resolution", "stackTrace": ['
        '"  File \\"/var/task/app.py\\", line 9, in h\\n", '
        '"  File \\"/var/task/huggingface_hub/file_download.py\\", line 1, in get\\n", '
        '"  File \\"/usr/lib/python3.11/socket.py\\", line 827, in create_connection\\n"]}'
    )
    (note,) = local.explain(text)
    assert note.startswith("network attempt: huggingface_hub tried to connect")
    assert "snapshot_download" in note
    assert local.explain('{"label": "billing"}') == []


def test_stack_modules_are_innermost_first() -> None:
    text = (
        'File "/var/task/app.py", line 1\nFile "/var/task/lib/x.py", line 2\n'
        'File "/usr/lib/python3.11/socket.py", line 3'
    )
    assert local.stack_modules(text) == ["socket", "lib", "app"]


def test_bytecode_names_the_image_path_not_the_host_path(tmp_path: Path) -> None:
    import marshal

    make_package(tmp_path)
    hostinstall.compile_bytecode(tmp_path, "/var/task")
    (pyc,) = (tmp_path / "pkg" / "sub" / "__pycache__").glob("mod.cpython-311.pyc")
    code = marshal.loads(pyc.read_bytes()[16:])  # noqa: S302  (our own freshly written bytecode)
    assert code.co_filename == "/var/task/pkg/sub/mod.py"
    assert str(tmp_path).encode() not in pyc.read_bytes()


def test_error_responses_are_answers_but_lambda_failures_fail_the_run() -> None:
    body = '{"error": {"type": "UnknownField"}}'
    answer = local.Invocation("bad.json", 200, body, 1.0, outcome="error response")
    assert not local.failed([answer])
    slow = local.Invocation("slow.json", 200, "Task timed out after 3.00 seconds", 3e3, outcome="timeout")
    assert local.failed([answer, slow])
    caught = local.Invocation("x.json", 200, "{}", 1.0, explanations=["write outside /tmp: ..."])
    assert local.failed([caught])  # the handler caught the error, Lambda would still have failed it


def test_an_nltk_download_refused_at_load_is_a_note_even_when_the_answer_is_ok() -> None:
    text = (
        '{"label": "positive"}\n[nltk_data] Error loading vader_lexicon: <urlopen error pathsec.urlopen: '
        "no validated address for host '127.0.0.1'; refusing to connect by unvalidated hostname>"
    )
    assert local.explain(text) == []  # the function answered from the shipped data: not a failure
    (note,) = local.refusal_notes(text)
    assert note.startswith("refused download: nltk (vader_lexicon") and "nltk.data.find" in note
    # a refusal that is explained already is not repeated
    assert local.refusal_notes(text, ["network attempt: nltk tried to connect"]) == []


def test_a_download_refused_by_the_offline_switch_counts_as_a_network_attempt() -> None:
    text = (
        "huggingface_hub.errors.OfflineModeIsEnabled: Cannot reach https://hf.co/api: offline mode.\n"
        'File "/var/task/huggingface_hub/utils/_http.py", line 3, in send'
    )
    (note,) = local.explain(text)
    assert note.startswith("network attempt: huggingface_hub") and "offline switches" in note
