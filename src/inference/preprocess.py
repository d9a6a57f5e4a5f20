"""Text normalisation applied before tokenisation (the same at export, prototype and request time).

Every step is linear in the text's length: a request of the largest accepted size must not be able to use up
the function's Timeout (a backtracking regex did, issue 13).
"""

from __future__ import annotations

import re
import unicodedata

# Possessive quantifiers and the lookbehind keep both patterns linear: a match can only start where a run of
# address characters starts, and a run is scanned once. The old `[\w.+-]+@...` rescanned every suffix of a
# long word (quadratic: 20,000 letters took 9 s).
_URL = re.compile(r"(?:https?://|www\.)\S++", re.IGNORECASE)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]++@[\w-]++\.[\w.-]++")
_SPACE = re.compile(r"\s+")


class ExpandedTooLong(ValueError):
    """NFKC made the text longer than allowed ("ﬃ" becomes "ffi", one code point can become 18)."""

    def __init__(self, length: int) -> None:
        super().__init__(f"{length} characters after Unicode normalisation")
        self.length = length


def normalise(text: str, max_chars: int | None = None) -> str:
    """NFKC, drop control characters, replace URLs/e-mail addresses by a word, collapse whitespace.

    Addresses carry no triage signal but many tokens; replacing them keeps short tickets short. With
    `max_chars`, a text longer than that once NFKC has expanded it raises `ExpandedTooLong` before any
    further work.
    """
    text = unicodedata.normalize("NFKC", text)
    if max_chars is not None and len(text) > max_chars:
        raise ExpandedTooLong(len(text))
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() or ch.isspace() else " " for ch in text)
    text = _URL.sub(" link ", text)
    text = _EMAIL.sub(" email address ", text)
    return _SPACE.sub(" ", text).strip()
