"""Train the local classifier from data/training/*.jsonl and write bot/understanding/data/local_model.json.

Two multinomial logistic regressions (scikit-learn, the `train` extra) over the
features the shipped scorer computes (bot.understanding.local_classifier.features:
words, word pairs, character n-grams, the kind of the last outbound text): one
for the intent, one for the urgency of side-effect replies. Probabilities are
calibrated by temperature scaling fitted on cross-validated predictions, so the
exported weights stay a plain softmax that the pure-Python scorer reads with no
dependency. From the same cross-validated predictions each intent gets the
confidence it needs to be acted on without a person (`thresholds`).
holdout.jsonl is never trained on; nor is any file outside data/training/.

    pip install -e '.[train]'
    python scripts/train_classifier.py [--c 4.0] [--eval FILE.jsonl ...]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.understanding.local_classifier import MODEL_PATH, OPT_OUT_MODEL_MIN, THRESHOLDS, features  # noqa: E402

TRAINING_DIR = ROOT / "data" / "training"
HOLDOUT = "holdout.jsonl"
TARGET_PRECISION = 0.9
"""Each intent's threshold is the lowest confidence at which cross-validated precision reaches this."""


def read_rows(paths) -> list[dict]:
    rows = []
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            rows += [json.loads(line) for line in fh if line.strip()]
    return rows


def _fit(docs, labels, c: float, seed: int):
    """A fitted (vectorizer, model, temperature, cross-validated calibrated probabilities)."""
    import numpy as np
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    vec = DictVectorizer()
    x = vec.fit_transform([{f: 1.0 / math.sqrt(len(d) or 1) for f in d} for d in docs])
    y = np.array(labels)

    def model():
        return LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=seed)

    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    logits = cross_val_predict(model(), x, y, cv=folds, method="decision_function")
    classes = sorted(set(labels))
    index = np.array([classes.index(label) for label in labels])
    temperature = min((t / 20 for t in range(5, 81)), key=lambda t: _nll(logits, index, t))
    fitted = model().fit(x, y)
    return vec, fitted, temperature, _softmax(logits / temperature), classes


def _softmax(z):
    import numpy as np

    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _nll(logits, index, temperature) -> float:
    import numpy as np

    p = _softmax(logits / temperature)
    return float(-np.log(p[np.arange(len(index)), index] + 1e-12).mean())


def _export(vec, fitted, temperature: float, prune: float) -> dict:
    """Weights divided by the temperature, so the scorer's softmax gives the calibrated probability; the
    scorer feeds each feature as 1/sqrt(n features) like training did (`scale: "sqrt"`)."""
    coef = fitted.coef_ / temperature
    bias = fitted.intercept_ / temperature
    names = vec.get_feature_names_out()
    weights = {}
    for j, name in enumerate(names):
        column = coef[:, j]
        if abs(column).max() >= prune:
            weights[str(name)] = [int(round(float(v) * 1000)) for v in column]  # thousandths: `weight_unit`
    return {
        "classes": [str(c) for c in fitted.classes_],
        "bias": [round(float(b), 4) for b in bias],
        "weights": weights,
        "weight_unit": 0.001,
        "scale": "sqrt",
        "temperature": round(temperature, 3),
    }


def _thresholds(probs, classes, labels) -> dict[str, float]:
    """Per intent, the lowest confidence whose cross-validated predictions reach TARGET_PRECISION."""
    import numpy as np

    top = probs.argmax(axis=1)
    conf = probs.max(axis=1)
    found = {}
    for k, label in enumerate(classes):
        mask = top == k
        default = THRESHOLDS.get(label, 0.5)
        if mask.sum() < 10:
            found[label] = default
            continue
        pairs = sorted(zip(conf[mask], np.array(labels)[mask] == label))
        chosen = 1.0
        for i in range(len(pairs)):
            kept = [ok for _, ok in pairs[i:]]
            if sum(kept) / len(kept) >= TARGET_PRECISION:
                chosen = float(pairs[i][0])
                break
        found[label] = round(min(0.8, max(0.25, chosen)), 3)
    found["side_effect_concern"] = 0.0  # a clinical reply always reaches staff
    found["opt_out"] = max(found.get("opt_out", 0.0), OPT_OUT_MODEL_MIN)  # staff confirm a model opt-out anyway
    return found


def build(rows: list[dict], c: float, seed: int, prune: float) -> dict:
    docs = [features(r["body"], r["context"]) for r in rows]
    labels = [r["intent"] for r in rows]
    vec, fitted, temperature, probs, classes = _fit(docs, labels, c, seed)
    intent = _export(vec, fitted, temperature, prune)
    side = [(d, r["urgency"]) for d, r in zip(docs, rows) if r["intent"] == "side_effect_concern"]
    uvec, ufitted, utemp, _, _ = _fit([d for d, _ in side], [u for _, u in side], c, seed + 1)
    return {
        "format": 3,
        "trained_on": len(rows),
        "thresholds": _thresholds(probs, classes, labels),
        "models": {"intent": intent, "urgency": _export(uvec, ufitted, utemp, prune * 1.5)},
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--c", type=float, default=4.0, help="inverse regularisation strength")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--prune", type=float, default=0.1, help="drop features whose largest weight is below this")
    parser.add_argument("--out", default=str(MODEL_PATH))
    parser.add_argument(
        "--eval", nargs="*", default=[str(TRAINING_DIR / HOLDOUT)], help="labeled files to report on after training"
    )
    args = parser.parse_args(argv)

    paths = sorted(p for p in TRAINING_DIR.glob("*.jsonl") if p.name != HOLDOUT)
    rows = read_rows(paths)
    print(f"training on {len(rows)} replies from {', '.join(p.name for p in paths)}")
    model = build(rows, args.c, args.seed, args.prune)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(model, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    print(
        f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB, {len(model['models']['intent']['weights'])} intent"
        f" features, temperature {model['models']['intent']['temperature']})"
    )
    print("thresholds " + " ".join(f"{k}={v}" for k, v in model["thresholds"].items()))

    from bot.understanding import local_classifier
    from bot.understanding.evaluate import evaluate, format_report

    local_classifier.load_model.cache_clear()
    for path in args.eval or []:
        if Path(path).is_file():
            print(f"\n== {path}")
            print(format_report(evaluate(path)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
