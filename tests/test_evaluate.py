"""`aftercare eval`: figures, JSON keys and the readable report."""

from __future__ import annotations

import json

from bot.understanding.evaluate import evaluate, format_report, main

ROWS = [
    {
        "id": "t1",
        "context": {"treatment": "botox", "days_since_visit": 90, "last_outbound": None},
        "body": "STOP",
        "intent": "opt_out",
        "urgency": "none",
    },
    {
        "id": "t2",
        "context": {"treatment": "lip_filler", "days_since_visit": 0, "last_outbound": None},
        "body": "my lip is white and cold",
        "intent": "side_effect_concern",
        "urgency": "emergency",
    },
    {
        "id": "t3",
        "context": {"treatment": "botox", "days_since_visit": 7, "last_outbound": None},
        "body": "my eyelid is droopy",
        "intent": "side_effect_concern",
        "urgency": "urgent",
    },
    {
        "id": "t4",
        "context": {"treatment": "botox", "days_since_visit": 60, "last_outbound": None},
        "body": "are you open sundays?",
        "intent": "question",
        "urgency": "none",
    },
]
KEYS = {
    "n",
    "accuracy",
    "macro_f1",
    "per_intent",
    "opt_out_recall",
    "opt_out_precision",
    "emergency_recall",
    "urgent_recall",
    "p50_ms",
    "p99_ms",
}


def _write(tmp_path):
    path = tmp_path / "labeled.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return path


def test_evaluate_figures(tmp_path):
    result = evaluate(_write(tmp_path))
    assert set(result) >= KEYS
    assert result["n"] == 4 and result["accuracy"] == 1.0
    assert result["opt_out_recall"] == result["emergency_recall"] == result["urgent_recall"] == 1.0
    assert result["per_intent"]["side_effect_concern"]["support"] == 2
    assert result["confusion"]["question"]["question"] == 1


def test_json_output(tmp_path, capsys):
    assert main([str(_write(tmp_path)), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= KEYS and "errors" not in out


def test_readable_report(tmp_path, capsys):
    assert main([str(_write(tmp_path))]) == 0
    text = capsys.readouterr().out
    assert "accuracy" in text and "confusion" in text and "opt-out" in text
    assert "macro-F1" in format_report(evaluate(_write(tmp_path)))


def test_missing_file_is_an_error(tmp_path, capsys):
    assert main([str(tmp_path / "nope.jsonl")]) == 2
