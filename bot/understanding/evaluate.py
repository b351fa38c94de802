"""`aftercare eval FILE.jsonl`: measure the reply classifier on a labeled file.

Reports accuracy, macro-F1, per-intent precision/recall, the confusion matrix
and the safety figures (opt-out recall and precision, emergency and urgent
recall and precision, negative-feedback recall), figures per language, counts
of what was predicted (so a file of texts that should page nobody can be
measured too), plus latency per decision. `--mistakes` lists every miss with
the path that decided it (guard, local model, LLM).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from bot.settings import Settings
from bot.understanding.classifier import INTENTS, classify
from bot.understanding.decision import URGENCIES


class LLMNotConfigured(ValueError):
    """`--classifier llm` was asked for with no LLM configured: an error, not a silent local run."""


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
    if classifier == "llm" and not settings.llm_configured:
        raise LLMNotConfigured("--classifier llm needs OPENAI_BASE_URL or OPENAI_API_KEY set; none is configured")
    rows = read_labeled(path)
    if rows:
        classify(rows[0]["body"], dict(rows[0].get("context") or {}), settings)  # load the model outside the timing
    truth, predicted, true_urg, pred_urg, latencies, errors, langs = [], [], [], [], [], [], []
    for row in rows:
        ctx = dict(row.get("context") or {})
        started = time.perf_counter()
        decision = classify(row["body"], ctx, settings)
        latencies.append((time.perf_counter() - started) * 1000)
        truth.append(row["intent"])
        predicted.append(decision.intent)
        true_urg.append(row.get("urgency", "none"))
        pred_urg.append(decision.urgency)
        langs.append(row.get("lang") or "?")
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
                    "rule": decision.guard_rule,
                    "confidence": decision.confidence,
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
    figures = _figures(truth, predicted, true_urg, pred_urg)
    by_language = {}
    for lang in sorted(set(langs)):
        idx = [i for i, x in enumerate(langs) if x == lang]
        by_language[lang] = _figures(
            [truth[i] for i in idx], [predicted[i] for i in idx], [true_urg[i] for i in idx], [pred_urg[i] for i in idx]
        )
    confusion = {t: {p: sum(a == t and b == p for a, b in zip(truth, predicted)) for p in labels} for t in labels}
    return {
        "n": len(rows),
        **figures,
        "per_intent": per_intent,
        "macro_f1": round(sum(f1s) / len(f1s), 4) if f1s else 0.0,
        "per_language": by_language,
        "predicted": {
            "intent": {i: predicted.count(i) for i in INTENTS if i in predicted},
            "urgency": {u: pred_urg.count(u) for u in URGENCIES if u in pred_urg},
        },
        "p50_ms": round(_percentile(latencies, 50), 3),
        "p99_ms": round(_percentile(latencies, 99), 3),
        "confusion": confusion,
        "errors": errors,
    }


def _figures(truth, predicted, true_urg, pred_urg) -> dict:
    """Accuracy and the safety figures over parallel lists of labels and predictions."""
    n = len(truth)
    opt_tp = sum(t == "opt_out" and p == "opt_out" for t, p in zip(truth, predicted))
    urgent_true = [i for i, u in enumerate(true_urg) if u in ("urgent", "emergency")]
    urgent_pred = [i for i, u in enumerate(pred_urg) if u in ("urgent", "emergency")]
    emergency_true = [i for i, u in enumerate(true_urg) if u == "emergency"]
    emergency_pred = [i for i, u in enumerate(pred_urg) if u == "emergency"]
    neg_true = [i for i, t in enumerate(truth) if t == "negative_feedback"]
    return {
        "accuracy": round(_ratio(sum(t == p for t, p in zip(truth, predicted)), n), 4),
        "opt_out_recall": round(_ratio(opt_tp, truth.count("opt_out")), 4),
        "opt_out_precision": round(_ratio(opt_tp, predicted.count("opt_out")), 4),
        "emergency_recall": round(
            _ratio(sum(pred_urg[i] == "emergency" for i in emergency_true), len(emergency_true)), 4
        ),
        "emergency_precision": round(
            _ratio(sum(true_urg[i] == "emergency" for i in emergency_pred), len(emergency_pred)), 4
        ),
        "urgent_recall": round(
            _ratio(sum(pred_urg[i] in ("urgent", "emergency") for i in urgent_true), len(urgent_true)), 4
        ),
        "urgent_precision": round(
            _ratio(sum(true_urg[i] in ("urgent", "emergency") for i in urgent_pred), len(urgent_pred)), 4
        ),
        "negative_feedback_recall": round(
            _ratio(sum(predicted[i] == "negative_feedback" for i in neg_true), len(neg_true)), 4
        ),
    }


def format_report(result: dict, mistakes: bool = False) -> str:
    """A readable table: headline figures, per-language figures, per-intent scores, confusion matrix, mistakes
    (the first 60, or every one with `mistakes`)."""
    lines = [
        f"replies        {result['n']}",
        f"accuracy       {result['accuracy']:.3f}",
        f"macro-F1       {result['macro_f1']:.3f}",
        f"opt-out        recall {result['opt_out_recall']:.3f}  precision {result['opt_out_precision']:.3f}",
        f"emergency      recall {result['emergency_recall']:.3f}  precision {result['emergency_precision']:.3f}",
        f"urgent+        recall {result['urgent_recall']:.3f}  precision {result['urgent_precision']:.3f}",
        f"neg. feedback  recall {result['negative_feedback_recall']:.3f}",
        "predicted      "
        + "  ".join(f"{k} {v}" for k, v in result["predicted"]["urgency"].items())
        + "  |  "
        + "  ".join(f"{k} {v}" for k, v in result["predicted"]["intent"].items()),
        f"latency        p50 {result['p50_ms']:.2f} ms  p99 {result['p99_ms']:.2f} ms",
        "",
    ]
    for lang, f in (result.get("per_language") or {}).items():
        lines.append(
            f"  [{lang}] accuracy {f['accuracy']:.3f}  opt-out r {f['opt_out_recall']:.3f} p {f['opt_out_precision']:.3f}"
            f"  emergency r {f['emergency_recall']:.3f}  urgent+ r {f['urgent_recall']:.3f} p {f['urgent_precision']:.3f}"
        )
    lines += ["", f"{'intent':22} {'prec':>6} {'recall':>6} {'f1':>6} {'n':>5}"]
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
        for e in errors if mistakes else errors[:60]:
            why = e["path"] + (f" {e['rule']}" if e.get("rule") else "") + f" {e['confidence']:.2f}"
            body = e["body"] if mistakes else e["body"][:80]
            lines.append(
                f"  {e['id'] or '':8} {e['intent']}/{e['urgency']} -> {e['predicted']}/{e['predicted_urgency']} [{why}]  {body}"
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
    parser.add_argument("--mistakes", action="store_true", help="list every miss with the path that decided it")
    args = parser.parse_args(argv)
    try:
        result = evaluate(args.file, args.classifier)
    except LLMNotConfigured as exc:
        print(f"aftercare eval: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError, KeyError) as exc:
        print(f"aftercare eval: {args.file}: {exc}", file=sys.stderr)
        return 2
    if args.json:
        out = {k: v for k, v in result.items() if k != "errors"}
        if args.mistakes:
            out["mistakes"] = result["errors"]
        print(json.dumps(out))
    else:
        print(format_report(result, mistakes=args.mistakes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
