"""The largest request the function accepts, built to make every step do its most work.

64 texts (INFERENCE_MAX_TEXTS) of 20,000 characters (INFERENCE_MAX_TEXT_CHARS), each still 20,000 characters
after NFKC, full of what the normaliser rewrites (ligatures NFKC expands, zero-width characters, e-mail- and
URL-like runs) and of short words, so that every text fills the model's 256 tokens. About 1.4 MB of JSON,
well under Lambda's 6 MB payload limit (a longer payload can only carry texts the limits refuse early).

`combining_runs_event` is the worst for Unicode normalisation instead: one letter and 19,999 combining marks
of four classes in descending order, which CPython's canonical reordering (an insertion sort before the fix
for gh-149079) sorted in quadratic time: 38 s of CPU for the 64 texts on CPython 3.11.7, over the Timeout.
"""

from __future__ import annotations

from typing import Any

TEXTS = 64
TEXT_CHARS = 20_000
# NFKC turns "ﬃ" into "ffi": 4 characters sent, 8 after normalisation, counted against the limit.
PIECES = ("ﬃ ", "a.b+c-d@e-f.g.h ", "www.x.y/z ", "\u200binvoice\u200b ", "I was charged twice ")


def worst_case_text(seed: int) -> str:
    pieces = PIECES[seed % len(PIECES) :] + PIECES[: seed % len(PIECES)]
    text = "".join(pieces) * (TEXT_CHARS // sum(len(p) + p.count("ﬃ") * 2 for p in pieces) + 1)
    while len(text) + 2 * text.count("ﬃ") > TEXT_CHARS:  # keep the NFKC length within the limit
        text = text[:-1]
    return text


def worst_case_event() -> dict[str, Any]:
    return {"texts": [worst_case_text(seed) for seed in range(TEXTS)]}


# combining classes 230, 220, 202, 1: every mark is out of order with the three before it
DESCENDING_MARKS = "\u0301\u0316\u0327\u0334"


def combining_runs_event() -> dict[str, Any]:
    text = ("a" + DESCENDING_MARKS * (TEXT_CHARS // len(DESCENDING_MARKS)))[:TEXT_CHARS]
    return {"texts": [text] * TEXTS}
