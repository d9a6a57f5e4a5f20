"""Train src/inference/model.joblib on scikit-learn's bundled wine data set (178 wines, 3 cultivars; real
UCI data that ships inside the scikit-learn package, so training needs no download either).

    PYTHONPATH=src python training/train.py

Seeded: the same library versions give the same predictions. Retrain whenever scikit-learn's version in the
Pipfile changes: a model file is read by the version that wrote it. Also writes the sample events from
held-out wines (events/).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import joblib
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline as SkPipeline
from sklearn.preprocessing import StandardScaler

from inference import model

EVENTS = Path(__file__).resolve().parents[1] / "events"


def main() -> int:
    data = load_wine()
    assert tuple(data.feature_names) == model.FEATURES
    names = [str(n) for n in data.target_names]
    x_train, x_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.25, random_state=0, stratify=data.target
    )
    estimator = SkPipeline(
        [("scale", StandardScaler()), ("clf", LogisticRegression(C=0.5, max_iter=1000, random_state=0))]
    )
    estimator.fit(x_train, [names[y] for y in y_train])
    joblib.dump(estimator, model.MODEL_FILE, compress=3)
    accuracy = estimator.score(x_test, [names[y] for y in y_test])
    print(f"{model.MODEL_FILE}: {len(x_train)} wines, held-out accuracy {accuracy:.3f}")
    held_out = {cls: next(x for x, y in zip(x_test, y_test, strict=True) if y == cls) for cls in (0, 1, 2)}
    as_sample = lambda x: {f: round(float(v), 4) for f, v in zip(model.FEATURES, x, strict=True)}  # noqa: E731
    (EVENTS / "single.json").write_text(json.dumps({"sample": as_sample(held_out[0])}, indent=2) + "\n")
    batch = {"samples": [as_sample(held_out[cls]) for cls in (1, 2, 0)]}
    (EVENTS / "batch.json").write_text(json.dumps(batch, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
