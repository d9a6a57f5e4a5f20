"""Normalisation: stream-safe before NFKC, so no run of combining marks is long enough to be slow to sort."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inference.preprocess import CGJ, MAX_NON_STARTERS, normalise, stream_safe

# combining classes 230, 220, 202, 1; U+FF9E is a starter whose NFKD, U+3099, is a non-starter (class 8)
MARKS = "\u0301\u0316\u0327\u0334"
TEXT = st.lists(
    st.one_of(
        st.characters(codec="utf-8"), st.sampled_from([*MARKS, "\uff9e", "\u0344", "\u0f73", "\u1f82", CGJ])
    ),
    max_size=400,
).map("".join)


def longest_non_starter_run(text: str) -> int:
    longest = run = 0
    for ch in unicodedata.normalize("NFKD", text):
        run = run + 1 if unicodedata.combining(ch) else 0
        longest = max(longest, run)
    return longest


@given(TEXT)
def test_no_run_of_non_starters_is_left_longer_than_the_limit(text: str) -> None:
    safe, inserted = stream_safe(text)
    # U+0344 and U+0F73 decompose into two non-starters each but count as one character, and a letter's
    # decomposition may end in three (U+1F82), which nothing counts
    assert longest_non_starter_run(safe) <= 2 * MAX_NON_STARTERS + 3
    assert safe.replace(CGJ, "") == text.replace(CGJ, "")
    assert safe.count(CGJ) - text.count(CGJ) == inserted


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        ("a" + MARKS * 20, [31, 30, 20]),  # the letter and 30 marks, then a CGJ after every 30 more
        ("a" + "\u0301" * 30, [31]),  # 30 marks: nothing to do
        ("x" + "\uff9e\u0301" * 20, [31, 10]),  # U+FF9E counts: it is a non-starter once decomposed
    ],
    ids=["runs", "at-the-limit", "decomposes-to-a-mark"],
)
def test_a_cgj_follows_every_30_non_starters(text: str, pieces: list[int]) -> None:
    safe, inserted = stream_safe(text)
    assert [len(piece) for piece in safe.split(CGJ)] == pieces
    assert inserted == len(pieces) - 1


@pytest.mark.parametrize(
    "text",
    [
        "plain ASCII",
        "café naïve Übergröße",
        "Tiếng Việt có dấu",
        "北京的客服",
        "ﬃ",
        "e\u0301\u0323 stacked marks",
    ],
)
def test_real_text_is_left_alone(text: str) -> None:
    assert stream_safe(text) == (text, 0)
    assert stream_safe(unicodedata.normalize("NFD", text)) == (unicodedata.normalize("NFD", text), 0)


def test_the_length_limit_does_not_count_the_inserted_cgjs() -> None:
    text = ("a" + MARKS * 5000)[:20_000]
    normalised = normalise(text, max_chars=20_000)  # no ExpandedTooLong: 20,000 characters as sent
    assert normalised.count(CGJ) == (20_000 - 1) // MAX_NON_STARTERS


@pytest.mark.model
def test_the_model_reads_no_difference(model_dir: Path) -> None:
    from inference.pipeline import load_tokenizer

    tokenizer = load_tokenizer(model_dir)
    text = "refund " + "e" + MARKS * 20 + " please"
    safe, inserted = stream_safe(text)
    assert inserted and tokenizer.encode(safe).ids == tokenizer.encode(text).ids
