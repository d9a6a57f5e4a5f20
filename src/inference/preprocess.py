"""Text normalisation applied before tokenisation (the same at export, prototype and request time)."""

from __future__ import annotations

import re
import unicodedata

_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """NFKC, drop control characters, replace URLs/e-mail addresses by a word, collapse whitespace.

    Addresses carry no triage signal but many tokens; replacing them keeps short tickets short.
    """
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch if ch.isprintable() or ch.isspace() else " " for ch in text)
    text = _URL.sub(" link ", text)
    text = _EMAIL.sub(" email address ", text)
    return _SPACE.sub(" ", text).strip()
