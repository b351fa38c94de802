"""Train the local classifier from data/training/*.jsonl and write bot/understanding/data/local_model.json.

Two multinomial logistic regressions over the same features
(bot.understanding.local_classifier.features): one for the intent, one for the urgency of
side-effect replies. Plain SGD in pure Python, deterministic for a given seed;
holdout.jsonl is never trained on. Weights below a threshold are dropped so the
shipped file stays small.

    python scripts/train_classifier.py [--epochs 12] [--eval FILE.jsonl ...]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.understanding.local_classifier import MODEL_PATH, LinearModel, features  # noqa: E402

TRAINING_DIR = ROOT / "data" / "training"
HOLDOUT = "holdout.jsonl"


def read_rows(paths) -> list[dict]:
    rows = []
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            rows += [json.loads(line) for line in fh if line.strip()]
    return rows


def train(
    examples: list[tuple[list[str], str]], classes: list[str], epochs: int, seed: int, rate=0.25, l2=1e-5, min_count=2
):
    """Softmax regression by SGD; returns (bias, weights) with weights {feature: [per class]}."""
    counts = Counter(f for feats, _ in examples for f in set(feats))
    index = {c: i for i, c in enumerate(classes)}
    prior = Counter(label for _, label in examples)
    # Classes are balanced by weighting each example by 1/frequency of its label.
    balance = {c: len(examples) / (len(classes) * prior[c]) for c in classes if prior[c]}
    k = len(classes)
    bias = [0.0] * k
    weights: dict[str, list[float]] = {}
    model = LinearModel(classes, bias, weights)  # reads bias and weights as they are updated in place
    rng = random.Random(seed)
    order = list(range(len(examples)))
    for epoch in range(epochs):
        rng.shuffle(order)
        lr = rate / (1 + epoch * 0.5)
        for n in order:
            feats, label = examples[n]
            feats = [f for f in feats if counts[f] >= min_count]
            # The shipped model's own softmax: training and classifying cannot drift apart.
            probs = model.probabilities(feats)
            grad = [probs[c] for c in classes]
            grad[index[label]] -= 1.0
            step = lr * balance[label]
            for i in range(k):
                bias[i] -= step * grad[i]
            scale = step / max(1.0, math.sqrt(len(feats)))
            for f in feats:
                w = weights.setdefault(f, [0.0] * k)
                for i in range(k):
                    w[i] -= scale * grad[i] + lr * l2 * w[i]
    return bias, weights


def prune(weights: dict[str, list[float]], threshold: float, digits=3) -> dict[str, list[float]]:
    kept = {}
    for f, w in weights.items():
        if max(abs(x) for x in w) >= threshold:
            kept[f] = [round(x, digits) for x in w]
    return kept


def build(rows: list[dict], epochs: int, seed: int, threshold: float) -> dict:
    from bot.understanding.classifier import INTENTS

    intent_examples = [(features(r["body"], r["context"]), r["intent"]) for r in rows]
    intent_classes = [c for c in INTENTS if any(lbl == c for _, lbl in intent_examples)]
    ibias, iweights = train(intent_examples, intent_classes, epochs, seed)
    side = [(features(r["body"], r["context"]), r["urgency"]) for r in rows if r["intent"] == "side_effect_concern"]
    urgency_classes = ["routine", "urgent", "emergency"]
    ubias, uweights = train(side, urgency_classes, epochs, seed + 1)
    return {
        "format": 1,
        "trained_on": len(rows),
        "models": {
            "intent": {
                "classes": intent_classes,
                "bias": [round(b, 4) for b in ibias],
                "weights": prune(iweights, threshold),
            },
            "urgency": {
                "classes": urgency_classes,
                "bias": [round(b, 4) for b in ubias],
                "weights": prune(uweights, threshold * 1.5),
            },
        },
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--threshold", type=float, default=0.05, help="drop features whose largest weight is below this"
    )
    parser.add_argument("--out", default=str(MODEL_PATH))
    parser.add_argument(
        "--eval", nargs="*", default=[str(TRAINING_DIR / HOLDOUT)], help="labeled files to report on after training"
    )
    args = parser.parse_args(argv)

    paths = sorted(p for p in TRAINING_DIR.glob("*.jsonl") if p.name != HOLDOUT)
    rows = read_rows(paths)
    print(f"training on {len(rows)} replies from {', '.join(p.name for p in paths)}")
    model = build(rows, args.epochs, args.seed, args.threshold)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(model, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    print(
        f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB, {len(model['models']['intent']['weights'])} intent features)"
    )

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
