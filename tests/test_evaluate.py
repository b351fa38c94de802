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


def test_json_adds_precision_and_predicted_counts(tmp_path, capsys):
    assert main([str(_write(tmp_path)), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["urgent_precision"] == out["emergency_precision"] == 1.0
    assert out["predicted"]["urgency"] == {"none": 2, "urgent": 1, "emergency": 1}
    assert out["predicted"]["intent"]["side_effect_concern"] == 2
    assert "negative_feedback_recall" in out and set(out["per_language"]) == {"?"}


def test_a_file_that_should_page_nobody_shows_its_false_pages(tmp_path):
    path = tmp_path / "everyday.jsonl"
    rows = [
        {"body": "running late, traffic is insane", "intent": "other", "urgency": "none", "lang": "en"},
        {"body": "my lip is white and cold", "intent": "other", "urgency": "none", "lang": "en"},
    ]
    path.write_text("".join(json.dumps({**r, "context": {"treatment": "lip_filler"}}) + "\n" for r in rows))
    result = evaluate(path)
    assert result["predicted"]["urgency"].get("emergency") == 1
    assert result["emergency_precision"] == 0.0


def test_mistakes_lists_every_miss_with_its_path(tmp_path, capsys):
    path = tmp_path / "wrong.jsonl"
    wrong = dict(ROWS[0], intent="question", id="w1")
    path.write_text(json.dumps(wrong) + "\n")
    assert main([str(path), "--mistakes"]) == 0
    text = capsys.readouterr().out
    assert "w1" in text and "[guard keyword:stop" in text


def test_llm_classifier_without_an_llm_is_an_error(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert main([str(_write(tmp_path)), "--classifier", "llm"]) == 2
    err = capsys.readouterr().err
    assert "--classifier llm" in err and "configured" in err
