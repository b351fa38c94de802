"""`aftercare eval FILE.jsonl`: measure the reply classifier on a labeled file.

Reports accuracy, macro-F1, per-intent precision/recall, the confusion matrix
and the safety figures (opt-out recall and precision, emergency and urgent
recall), plus latency per decision.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from bot.settings import Settings
from bot.understanding.classifier import INTENTS, classify


def _ratio(num: int, den: int) -> float:
    return num / den if den else 1.0


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[rank]


def read_labeled(path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def evaluate(path, classifier: str = "local", settings=None) -> dict:
    """Classify every line of a labeled file and return the figures (see module doc)."""
    if classifier not in ("local", "llm"):
        raise ValueError(f"classifier must be local or llm, got {classifier!r}")
    if classifier == "local":
        settings = Settings()  # no LLM configured: guards + local model
    elif settings is None:
        settings = Settings.from_env()
    rows = read_labeled(path)
    if rows:
        classify(rows[0]["body"], dict(rows[0].get("context") or {}), settings)  # load the model outside the timing
    truth, predicted, true_urg, pred_urg, latencies, errors = [], [], [], [], [], []
    for row in rows:
        ctx = dict(row.get("context") or {})
        started = time.perf_counter()
        decision = classify(row["body"], ctx, settings)
        latencies.append((time.perf_counter() - started) * 1000)
        truth.append(row["intent"])
        predicted.append(decision.intent)
        true_urg.append(row.get("urgency", "none"))
        pred_urg.append(decision.urgency)
        if decision.intent != row["intent"] or (
            row.get("urgency") in ("urgent", "emergency") and decision.urgency != row["urgency"]
        ):
            errors.append(
                {
                    "id": row.get("id"),
                    "body": row["body"],
                    "intent": row["intent"],
                    "urgency": row.get("urgency"),
                    "predicted": decision.intent,
                    "predicted_urgency": decision.urgency,
                    "path": decision.path,
                }
            )

    labels = [i for i in INTENTS if i in truth or i in predicted]
    per_intent, f1s = {}, []
    for label in INTENTS:
        tp = sum(t == label and p == label for t, p in zip(truth, predicted))
        fp = sum(t != label and p == label for t, p in zip(truth, predicted))
        fn = sum(t == label and p != label for t, p in zip(truth, predicted))
        support = tp + fn
        if support == 0 and fp == 0:
            continue
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_intent[label] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": support,
        }
        if support:
            f1s.append(f1)
    n = len(rows)
    opt_tp = sum(t == "opt_out" and p == "opt_out" for t, p in zip(truth, predicted))
    urgent_true = [i for i, u in enumerate(true_urg) if u in ("urgent", "emergency")]
    emergency_true = [i for i, u in enumerate(true_urg) if u == "emergency"]
    confusion = {t: {p: sum(a == t and b == p for a, b in zip(truth, predicted)) for p in labels} for t in labels}
    return {
        "n": n,
        "accuracy": round(_ratio(sum(t == p for t, p in zip(truth, predicted)), n), 4),
        "macro_f1": round(sum(f1s) / len(f1s), 4) if f1s else 0.0,
        "per_intent": per_intent,
        "opt_out_recall": round(_ratio(opt_tp, truth.count("opt_out")), 4),
        "opt_out_precision": round(_ratio(opt_tp, predicted.count("opt_out")), 4),
        "emergency_recall": round(
            _ratio(sum(pred_urg[i] == "emergency" for i in emergency_true), len(emergency_true)), 4
        ),
        "urgent_recall": round(
            _ratio(sum(pred_urg[i] in ("urgent", "emergency") for i in urgent_true), len(urgent_true)), 4
        ),
        "p50_ms": round(_percentile(latencies, 50), 3),
        "p99_ms": round(_percentile(latencies, 99), 3),
        "confusion": confusion,
        "errors": errors,
    }


def format_report(result: dict) -> str:
    """A readable table: headline figures, per-intent scores, confusion matrix, mistakes."""
    lines = [
        f"replies        {result['n']}",
        f"accuracy       {result['accuracy']:.3f}",
        f"macro-F1       {result['macro_f1']:.3f}",
        f"opt-out        recall {result['opt_out_recall']:.3f}  precision {result['opt_out_precision']:.3f}",
        f"emergency      recall {result['emergency_recall']:.3f}",
        f"urgent+        recall {result['urgent_recall']:.3f}",
        f"latency        p50 {result['p50_ms']:.2f} ms  p99 {result['p99_ms']:.2f} ms",
        "",
        f"{'intent':22} {'prec':>6} {'recall':>6} {'f1':>6} {'n':>5}",
    ]
    for label, s in result["per_intent"].items():
        lines.append(f"{label:22} {s['precision']:6.2f} {s['recall']:6.2f} {s['f1']:6.2f} {s['support']:5d}")
    confusion = result.get("confusion") or {}
    if confusion:
        labels = list(confusion)
        short = [lbl[:6] for lbl in labels]
        lines += ["", "confusion (rows: true, columns: predicted)", f"{'':22} " + " ".join(f"{s:>6}" for s in short)]
        for label in labels:
            lines.append(f"{label:22} " + " ".join(f"{confusion[label][p] or '.':>6}" for p in labels))
    errors = result.get("errors") or []
    if errors:
        lines += ["", f"mistakes ({len(errors)})"]
        for e in errors[:60]:
            lines.append(
                f"  {e['id'] or '':8} {e['intent']}/{e['urgency']} -> {e['predicted']}/{e['predicted_urgency']} [{e['path']}]  {e['body'][:80]}"
            )
    return "\n".join(lines)


def main(argv=None) -> int:
    """`aftercare eval FILE.jsonl [--classifier local|llm] [--json]`; exit 0 on success."""
    parser = argparse.ArgumentParser(
        prog="aftercare eval", description="Measure the reply classifier on a labeled JSONL file."
    )
    parser.add_argument("file")
    parser.add_argument("--classifier", choices=("local", "llm"), default="local")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args(argv)
    try:
        result = evaluate(args.file, args.classifier)
    except (OSError, ValueError, KeyError) as exc:
        print(f"aftercare eval: {args.file}: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "errors"}))
    else:
        print(format_report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
