"""The words a ticket is classified on: lower-case words, without NLTK's English stop words.

Shared by the function and by training/train.py, so the model sees text prepared the same way.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Collection

import nltk

WORD = re.compile(r"[a-z][a-z']+")
# nltk's own name for another index (`python -m nltk.downloader -u`), e.g. a company mirror.
NLTK_INDEX_ENV = "NLTK_DOWNLOAD_URL"


def stop_words() -> frozenset[str]:
    """NLTK's English stop words, downloaded into $NLTK_DATA the first time (the usual notebook way)."""
    try:
        nltk.data.find("corpora/stopwords")
    except LookupError:
        mirror = os.environ.get(NLTK_INDEX_ENV)
        # nltk refuses any address that is not public (its SSRF guard) and warns when lifted; a mirror
        # named by the operator is trusted on purpose.
        enforce, nltk.pathsec.ENFORCE = nltk.pathsec.ENFORCE, nltk.pathsec.ENFORCE and not mirror
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                nltk.downloader.Downloader(server_index_url=mirror).download(
                    "stopwords", quiet=True, raise_on_error=True
                )
        finally:
            nltk.pathsec.ENFORCE = enforce
    from nltk.corpus import stopwords

    return frozenset(stopwords.words("english"))


def words(text: str, stop: Collection[str]) -> list[str]:
    return [word for word in WORD.findall(text.lower()) if word not in stop]
