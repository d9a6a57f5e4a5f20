"""Which team a support ticket goes to: the scikit-learn model in model.joblib, loaded once.

The model is a `Pipeline(TfidfVectorizer, LogisticRegression)` trained by training/train.py on words without
stop words (inference/text.py); it ships next to this file, so only the stop words are downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib

from inference.text import stop_words, words

MODEL_FILE = Path(__file__).with_name("model.joblib")
KEYWORDS = 3


@dataclass(frozen=True)
class Pipeline:
    model: Any  # sklearn.pipeline.Pipeline
    stop: frozenset[str]

    @classmethod
    def load(cls) -> Pipeline:
        return cls(joblib.load(MODEL_FILE), stop_words())

    def predict(self, texts: list[str]) -> list[dict[str, Any]]:
        kept = [" ".join(words(text, self.stop)) for text in texts]
        probabilities = self.model.predict_proba(kept)
        classes = [str(c) for c in self.model.classes_]
        return [
            {
                "label": classes[int(row.argmax())],
                "scores": {c: round(float(p), 4) for c, p in zip(classes, row, strict=True)},
                "keywords": self.keywords(text),
            }
            for text, row in zip(kept, probabilities, strict=True)
        ]

    def keywords(self, text: str) -> list[str]:
        """The words of the ticket the vectorizer weighs most (stop words never count)."""
        vectorizer = self.model.named_steps["tfidf"]
        weights = vectorizer.transform([text]).toarray()[0]
        vocabulary = vectorizer.get_feature_names_out()
        ranked = sorted((-w, str(vocabulary[i])) for i, w in enumerate(weights) if w > 0)
        return [word for _, word in ranked[:KEYWORDS]]
