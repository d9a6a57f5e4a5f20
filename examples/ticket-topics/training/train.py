"""Train src/inference/model.joblib from training/tickets.jsonl (run from the example or the adopted repo).

    PYTHONPATH=src python training/train.py

Seeded: the same data and library versions give the same predictions. Retrain whenever scikit-learn's
version in the Pipfile changes: a model file is read by the version that wrote it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import joblib
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline as SkPipeline

from inference import pipeline, text

DATA = Path(__file__).with_name("tickets.jsonl")


def main() -> int:
    rows = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]
    stop = text.stop_words()
    texts = [" ".join(text.words(row["text"], stop)) for row in rows]
    model = SkPipeline(
        [
            ("tfidf", TfidfVectorizer(sublinear_tf=True)),
            ("clf", LogisticRegression(C=10.0, max_iter=1000, random_state=0)),
        ]
    )
    model.fit(texts, [row["label"] for row in rows])
    joblib.dump(model, pipeline.MODEL_FILE)
    print(f"{pipeline.MODEL_FILE}: {len(rows)} tickets, classes {list(model.classes_)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
