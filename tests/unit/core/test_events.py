"""Sample events checked as Lambda's runtime parses them: one JSON document in UTF-8, else one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given

from lambdakit.core import events
from lambdakit.core.errors import BrokenEvent
from tests import brokenfiles as broken

REPO = Path(__file__).resolve().parents[3]
SAMPLE = (REPO / "events" / "single.json").read_bytes()


def test_an_event_is_the_json_it_holds(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text('{"text": "é"}', encoding="utf-8")
    assert events.read(path) == {"text": "é"}
    assert events.parse(b'"just a string"', "inline") == "just a string"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", r"x.json is not UTF-8 text \(byte 0x89 at offset 0\)"),
        ('{"text": "é"}'.encode("utf-16"), r"x.json is not UTF-8 text \(byte 0xff at offset 0\)"),
        (b"[" * 100_000, r"x.json nests deeper than Python's JSON parser allows"),
        (b'{"text": ', r"x.json is not valid JSON \(Expecting value: line 1, column 10\)"),
        (b"", r"x.json is empty"),
        (b"\xef\xbb\xbf{}", r"x.json starts with a byte-order mark"),
        (b"1" * 5000, r"x.json cannot be read as JSON \(Exceeds the limit \(4300 digits\)"),
    ],
)
def test_a_broken_event_is_one_line_naming_it(tmp_path: Path, raw: bytes, message: str) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(raw)
    with pytest.raises(BrokenEvent, match=message) as caught:
        events.read(path)
    assert len(str(caught.value).splitlines()) == 1 and "one JSON document in UTF-8" in str(caught.value)


@broken.examples(80)
@given(raw=broken.broken_bytes(SAMPLE, lambda n: b'{"a": ' * n))
def test_any_broken_event_is_one_line_or_still_an_event(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(raw)
    if broken.one_line(lambda: events.read(path), "x.json") is None:
        json.loads(raw)  # accepted: it is JSON indeed
