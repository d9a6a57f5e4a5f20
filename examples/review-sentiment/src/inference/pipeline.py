"""Sentiment of a review with NLTK's VADER lexicon, on the part of it that fits the MiniLM tokenizer window.

Loaded once per execution environment: `vader_lexicon` through nltk's downloader and the tokenizer of
sentence-transformers/all-MiniLM-L6-v2 through `hf_hub_download`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nltk.sentiment.vader import SentimentIntensityAnalyzer
from tokenizers import Tokenizer

from inference.resources import hub_file, nltk_resource

TOKENIZER_REPO = "sentence-transformers/all-MiniLM-L6-v2"
MAX_TOKENS = 128  # reviews are scored on the first 128 tokens, as the embedding model downstream sees them
POSITIVE, NEGATIVE = 0.05, -0.05  # VADER's usual thresholds on the compound score


@dataclass(frozen=True)
class Pipeline:
    analyzer: SentimentIntensityAnalyzer
    tokenizer: Tokenizer

    @classmethod
    def load(cls) -> Pipeline:
        nltk_resource("vader_lexicon", "sentiment/vader_lexicon.zip")
        tokenizer = Tokenizer.from_file(hub_file(TOKENIZER_REPO, "tokenizer.json"))
        tokenizer.no_padding()  # the file pads every text to 128 tokens for batching; here we count them
        tokenizer.enable_truncation(MAX_TOKENS)
        return cls(SentimentIntensityAnalyzer(), tokenizer)

    def predict(self, text: str) -> dict[str, Any]:
        encoding = self.tokenizer.encode(text)
        truncated = bool(encoding.overflowing)
        # offsets of the last real token ([SEP] is (0, 0)) say where the window ends in the text
        end = max(stop for _, stop in encoding.offsets) if truncated else len(text)
        scores = self.analyzer.polarity_scores(text[:end])
        return {
            "label": label_of(scores["compound"]),
            "scores": scores,
            "tokens": len(encoding.ids),
            "truncated": truncated,
        }


def label_of(compound: float) -> str:
    if compound >= POSITIVE:
        return "positive"
    if compound <= NEGATIVE:
        return "negative"
    return "neutral"
