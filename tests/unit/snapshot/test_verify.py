"""The verify's verdicts: only /tmp is writable, and a reach-out's fix depends on what already ships."""

from __future__ import annotations

from lambdakit.snapshot import sandbox, verify


def test_verify_allows_writes_to_tmp_only(box: sandbox.Sandbox) -> None:
    assert verify.allowed_write(str(box.tmp / "x"), box)
    assert verify.allowed_write("/tmp/x", box)
    assert not verify.allowed_write(str(box.cache_root / "x"), box)
    assert not verify.allowed_write("/var/task/x", box)


def test_a_download_at_run_time_of_shipped_data_asks_to_stop_downloading_not_to_preload() -> None:
    entry = {"library": "nltk", "host": "127.0.0.1", "port": 8765, "via": None}
    assert "pre-load it: call nltk.download" in verify.reach_out_problem(entry)
    shipped = verify.reach_out_problem(entry, {"nltk"})
    assert "although its files are shipped" in shipped and "pre-load" not in shipped
