"""The faithful run's notes: what Lambda would not allow, who did it, and the fix."""

from __future__ import annotations

import dataclasses

from lambdakit.config.target import LAMBDA, SNAPSTART_ON, Target
from lambdakit.runtime import explain, local
from lambdakit.runtime.environment import Invocation

LIMITS = Target(memory_mb=512, timeout_s=3, ephemeral_mb=512)
# NLTK's downloader prints its refusal (wrapped) and returns False: no exception, no traceback.
NLTK_REFUSED = (
    "[nltk_data] Error loading punkt_tab: <urlopen error pathsec.urlopen: no\n"
    "[nltk_data]     validated address for host 'raw.githubusercontent.com';\n"
    "[nltk_data]     refusing to connect by unvalidated hostname>\n"
)


def answered(name: str, size: int, duration_ms: float) -> Invocation:
    return Invocation(name, 200, '{"label": "x"}', duration_ms, duration_ms=duration_ms, request_bytes=size)


def timed_out(name: str, size: int) -> Invocation:
    return Invocation(
        name, 200, "Task timed out after 3.00 seconds", 3e3, outcome="timeout", request_bytes=size
    )


def test_a_read_only_write_is_attributed_to_the_library_and_its_variable() -> None:
    text = (
        "[ERROR] OSError: [Errno 30] Read-only file system: '/home/sbx/.cache/matplotlib'"
        'Traceback:  File "/var/task/matplotlib/__init__.py", line 5, in get_cachedir'
    )
    (note,) = explain.explain(text, home="/home/sbx")
    assert note.startswith("write outside /tmp: matplotlib wrote /home/sbx/.cache/matplotlib under HOME")
    assert "MPLCONFIGDIR" in note


def test_a_write_into_the_cache_root_asks_for_a_preload() -> None:
    (note,) = explain.explain("[Errno 30] Read-only file system: '/cache/nltk_data/corpora'", home="/")
    assert "nltk" in note and "in the cache root" in note and "nox -s snapshot" in note


def test_network_attempts_name_the_library_from_the_traceback() -> None:
    text = (
        '{"errorMessage": "[Errno -3] Temporary failure in name resolution", "stackTrace": ['
        '"  File \\"/var/task/app.py\\", line 9, in h\\n", '
        '"  File \\"/var/task/huggingface_hub/file_download.py\\", line 1, in get\\n", '
        '"  File \\"/usr/lib/python3.11/socket.py\\", line 827, in create_connection\\n"]}'
    )
    (note,) = explain.explain(text)
    assert note.startswith("network attempt: huggingface_hub tried to connect")
    assert "snapshot_download" in note
    assert explain.explain('{"label": "billing"}') == []


def test_stack_modules_are_innermost_first() -> None:
    text = (
        'File "/var/task/app.py", line 1\nFile "/var/task/lib/x.py", line 2\n'
        'File "/usr/lib/python3.11/socket.py", line 3'
    )
    assert explain.stack_modules(text) == ["socket", "lib", "app"]


def test_a_download_refused_by_the_offline_switch_counts_as_a_network_attempt() -> None:
    text = (
        "huggingface_hub.errors.OfflineModeIsEnabled: Cannot reach https://hf.co/api: offline mode.\n"
        'File "/var/task/huggingface_hub/utils/_http.py", line 3, in send'
    )
    (note,) = explain.explain(text)
    assert note.startswith("network attempt: huggingface_hub") and "offline switches" in note


def test_an_nltk_download_refused_at_load_is_a_note_even_when_the_answer_is_ok() -> None:
    ok = Invocation("single.json", 200, '{"label": "positive"}', 5.0, log=NLTK_REFUSED)
    explain.notes_for([ok], LIMITS)
    assert ok.explanations == []  # the function answered from the shipped data: not a failure
    (note,) = ok.notes
    assert note.startswith("refused download: nltk (punkt_tab") and "nltk.data.find" in note
    assert not local.failed([ok])
    # a refusal that is explained already is not repeated
    assert explain.refusal_notes(NLTK_REFUSED, ["network attempt: nltk tried to connect"]) == []


def test_an_event_over_6_mb_is_explained_as_lambdas_payload_limit() -> None:
    big = Invocation(
        "big.json", 200, '{"errorType": "Runtime.UnmarshalError"}', 1.0, outcome="function error"
    )
    big.request_bytes = 7 * 2**20
    explain.notes_for([big], LIMITS)
    (note,) = big.explanations
    assert note.startswith("payload too large: big.json is 7.0 MB") and "6 MB" in note and "413" in note


def test_a_response_over_6_mb_is_explained_too() -> None:
    echo = Invocation("echo.json", 200, '"' + "x" * (6 * 2**20) + '"', 1.0, request_bytes=10)
    explain.notes_for([echo], LIMITS)
    (note,) = echo.explanations
    assert note.startswith("response too large: the answer to echo.json is 6.0 MB")


def test_a_timeout_no_bigger_than_what_answered_is_out_of_time() -> None:
    results = [answered("a.json", 2_000, 2_500.0), timed_out("b.json", 1_000)]
    explain.notes_for(results, LIMITS)
    (note,) = results[1].explanations
    assert "out of time, not too much work" in note and "raise Timeout" in note


def test_a_timeout_that_grows_faster_than_its_input_is_too_much_work() -> None:
    # 40x the input of a 5 ms answer predicts 0.2 s, far under the 3 s it used up: super-linear work
    results = [answered("a.json", 1_000, 5.0), timed_out("huge.json", 40_000)]
    explain.notes_for(results, LIMITS)
    (note,) = results[1].explanations
    assert "too much work for its size" in note and "40x" in note and "do not raise Timeout" in note


def test_a_timeout_that_is_just_a_huge_request_asks_to_cap_the_request() -> None:
    results = [answered("a.json", 1_000, 500.0), timed_out("huge.json", 100_000)]
    explain.notes_for(results, LIMITS)
    (note,) = results[1].explanations
    assert "too much work in one request" in note and "cap the request size" in note


def test_out_of_memory_shows_the_killed_runtimes_peak() -> None:
    killed = Invocation("big.json", 502, "{}", 1.0, outcome="out of memory", peak_memory_bytes=512 * 2**20)
    restarted = Invocation("next.json", 200, '{"label": "x"}', 1.0)
    explain.notes_for([killed, restarted], LIMITS)
    (note,) = killed.explanations
    assert "killed during big.json at MemorySize=512 MB" in note and "peaked at 512 MB" in note
    line = local.peak_memory_line(
        [killed, restarted], {"peak_memory_bytes": 512 * 2**20, "runtime_peak_rss_bytes": 90 * 2**20}, LIMITS
    )
    assert line.startswith("peak memory: 512 MB when the runtime was killed during big.json")
    assert "90 MB runtime peak RSS of the runtime restarted after it" in line


def first_invoke(init_ms: float, duration_ms: float = 50.0) -> Invocation:
    log = f"INIT REPORT(durationMs: {init_ms})\nREPORT RequestId: r Duration: {duration_ms} ms\n"
    return Invocation("one.json", 200, '{"label": "x"}', duration_ms, duration_ms=duration_ms, log=log)


def test_an_init_past_10_s_is_cut_and_rerun_inside_the_first_invoke_which_then_times_out() -> None:
    result = first_invoke(11_000.0)
    explain.notes_for([result], LIMITS)
    (note,) = result.explanations
    assert note.startswith("init too slow: the init took 11.0 s, over the 10 s init limit of an on-demand")
    assert "about 11.1 s, over Timeout=3 s, so every cold start times out" in note
    assert "move work to build time" in note and "SnapStart" in note and "MemorySize (more CPU)" in note


def test_an_init_past_the_limit_that_fits_in_timeout_still_fails_the_run() -> None:
    result = first_invoke(11_000.0)
    explain.notes_for([result], dataclasses.replace(LIMITS, timeout_s=30))
    (note,) = result.explanations
    assert "every cold start waits 10 s more and runs the init twice" in note
    assert local.failed([result])


def test_an_init_within_the_limit_or_prepared_ahead_is_no_note() -> None:
    quick, snapstart = first_invoke(9_900.0), first_invoke(11_000.0)
    explain.notes_for([quick], LIMITS)
    explain.notes_for([snapstart], dataclasses.replace(LIMITS, snapstart=SNAPSTART_ON))
    assert quick.explanations == [] and snapstart.explanations == []


def test_the_init_limit_is_the_targets() -> None:
    result = first_invoke(1_500.0)
    strict = dataclasses.replace(LIMITS, rules=dataclasses.replace(LAMBDA, init_limit_s=1.0))
    explain.notes_for([result], strict)
    assert "over the 1 s init limit" in result.explanations[0]


def test_error_responses_are_answers_but_caught_failures_fail_the_run() -> None:
    answer = Invocation("bad.json", 200, '{"error": {"type": "UnknownField"}}', 1.0, outcome="error response")
    assert not local.failed([answer])
    caught = Invocation("x.json", 200, "{}", 1.0, explanations=["write outside /tmp: ..."])
    assert local.failed([caught])  # the handler caught the error, Lambda would still have failed it
