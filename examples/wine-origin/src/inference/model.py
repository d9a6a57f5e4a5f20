"""The model in model.joblib (a `Pipeline(StandardScaler, LogisticRegression)` trained by training/train.py
on scikit-learn's bundled wine data set), loaded once; it ships with the code, nothing is downloaded."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib

MODEL_FILE = Path(__file__).with_name("model.joblib")
# The 13 measurements, named as in sklearn.datasets.load_wine (the UCI wine data set).
FEATURES = (
    "alcohol",
    "malic_acid",
    "ash",
    "alcalinity_of_ash",
    "magnesium",
    "total_phenols",
    "flavanoids",
    "nonflavanoid_phenols",
    "proanthocyanins",
    "color_intensity",
    "hue",
    "od280/od315_of_diluted_wines",
    "proline",
)
# Below this probability an answer is flagged `uncertain`; template.yaml's Environment sets it on Lambda.
CONFIDENCE_ENV = "MIN_CONFIDENCE"
DEFAULT_CONFIDENCE = "0.5"


@dataclass(frozen=True)
class Model:
    estimator: Any  # sklearn.pipeline.Pipeline
    min_confidence: float

    @classmethod
    def load(cls) -> Model:
        return cls(joblib.load(MODEL_FILE), float(os.environ.get(CONFIDENCE_ENV, DEFAULT_CONFIDENCE)))

    def predict(self, samples: list[list[float]]) -> list[dict[str, Any]]:
        probabilities = self.estimator.predict_proba(samples)
        classes = [str(c) for c in self.estimator.classes_]
        results = []
        for row in probabilities:
            best = int(row.argmax())
            results.append(
                {
                    "cultivar": classes[best],
                    "probability": round(float(row[best]), 4),
                    "uncertain": bool(row[best] < self.min_confidence),
                    "scores": {c: round(float(p), 4) for c, p in zip(classes, row, strict=True)},
                }
            )
        return results
