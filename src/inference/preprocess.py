"""Text normalisation applied before tokenisation (the same at export, prototype and request time).

Every step is linear in the text's length: a request of the largest accepted size must not be able to use up
the function's Timeout (a backtracking regex did, issue 13; NFKC on long runs of combining marks, issue 22).

Stream-Safe Text Format
-----------------------
CPython's `unicodedata.normalize` puts each run of non-starters (combining marks, canonical combining class
not 0) in canonical order with an insertion sort: quadratic in the run's length when the classes alternate
("a" + 20,000 marks alternating classes 230/220 took 0.4-0.6 s per text, 64 texts 25-40 s at one CPU, on
CPython 3.11.7, 3.12.1 and 3.13.0; releases with the fix for CPython gh-149079 count marks instead). So before
NFKC, `stream_safe` puts U+034F COMBINING GRAPHEME JOINER (CGJ) after every 30 consecutive non-starters, as
Unicode's Stream-Safe Text Format does (UAX #15, section 13): the sort then never sees a run longer than 30
code points (63 once decomposed: four characters, such as U+0344, decompose into two non-starters each and
are counted once here, and a letter's own decomposition may end in three, U+1F82), whatever the
interpreter. A character is a non-starter here when it or the first character of its NFKD decomposition is
one (U+FF9E becomes the non-starter U+3099), found per distinct character of the text, so the check is
linear too (and nothing at all for an ASCII text).

What it changes: nothing for real text, which never carries 31 marks on one letter (the longest sequences in
use, Vietnamese or Tibetan stacks, hold fewer than 10). On such a run, the CGJ stops marks after it from being
reordered or composed with the letter before it, as the standard intends. The model never sees the
difference: its tokenizer removes every combining mark (CGJ included) when it strips accents. The length
limit counts the text without the CGJs inserted here, so a text accepted as sent is not refused for them.
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

CGJ = "\u034f"  # COMBINING GRAPHEME JOINER: a starter that displays as nothing and decomposes to nothing else
MAX_NON_STARTERS = 30  # UAX #15's limit for stream-safe text
_MARK = "\x01"  # stands for a non-starter in the map of a text that `stream_safe` scans
_LONG_RUN = re.compile(f"{_MARK}{{{MAX_NON_STARTERS + 1},}}")


class ExpandedTooLong(ValueError):
    """NFKC made the text longer than allowed ("ﬃ" becomes "ffi", one code point can become 18)."""

    def __init__(self, length: int) -> None:
        super().__init__(f"{length} characters after Unicode normalisation")
        self.length = length


def normalise(text: str, max_chars: int | None = None) -> str:
    """Stream-safe NFKC, drop control characters, replace URLs/e-mails by a word, collapse whitespace.

    Addresses carry no triage signal but many tokens; replacing them keeps short tickets short. With
    `max_chars`, a text longer than that once NFKC has expanded it (the CGJs `stream_safe` inserted not
    counted) raises `ExpandedTooLong` before any further work.
    """
    text, inserted = stream_safe(text)
    text = unicodedata.normalize("NFKC", text)
    if max_chars is not None and len(text) - inserted > max_chars:
        raise ExpandedTooLong(len(text) - inserted)
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() or ch.isspace() else " " for ch in text)
    text = _URL.sub(" link ", text)
    text = _EMAIL.sub(" email address ", text)
    return _SPACE.sub(" ", text).strip()


def stream_safe(text: str) -> tuple[str, int]:
    """`text` with a CGJ after every `MAX_NON_STARTERS` consecutive non-starters, and how many were inserted.

    Linear, and C-speed for text without non-starters: the distinct characters' decomposition shows whether
    any is there; only then each distinct character is classified, the text mapped to a string where the
    non-starters are `_MARK` (`str.translate`) and a regex finds the runs over the limit in that map.
    """
    if text.isascii():  # no ASCII character is or decomposes to a non-starter
        return text, 0
    distinct = "".join(set(text))
    # a few hundred distinct non-starters at most (ccc != 0 is a closed list): NFKD of them stays cheap
    if not any(map(unicodedata.combining, unicodedata.normalize("NFKD", distinct))):
        return text, 0
    table = dict.fromkeys(map(ord, filter(_is_non_starter, distinct)), _MARK)
    table[ord(_MARK)] = " "  # the text's own _MARK characters (control characters) are starters
    pieces: list[str] = []
    start = 0
    for run in _LONG_RUN.finditer(text.translate(table)):
        for cut in range(run.start() + MAX_NON_STARTERS, run.end(), MAX_NON_STARTERS):
            pieces += (text[start:cut], CGJ)
            start = cut
    return "".join([*pieces, text[start:]]), len(pieces) // 2


def _is_non_starter(ch: str) -> bool:
    # U+0F73/0F75/0F81 and U+FF9E/FF9F are starters whose decompositions begin with a non-starter
    return unicodedata.combining(ch) != 0 or unicodedata.combining(unicodedata.normalize("NFKD", ch)[0]) != 0
