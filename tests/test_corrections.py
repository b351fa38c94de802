"""Corrections that teach: a manager marks a decision wrong from the transcript; the correction is stored,
audited, exported as the labeled JSONL `aftercare eval` reads (no names, no numbers), and measured by month."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from bot.cli import main
from bot.metrics.corrections import by_month
from bot.understanding.evaluate import evaluate
from store.db import session_scope
from store.models import AuditEvent, Correction, Message
from tests import factories
from tests.helpers import add_staff, csrf_token, sign_in, text_in, work


@pytest.fixture
def spa(settings, clock, db_url, twilio):
    """A practice with Ana (lip filler yesterday), a manager and a front-desk member."""
    with session_scope(db_url) as session:
        practice = factories.practice(session)
        ana = factories.patient(session, practice.id)
        filler = factories.service(session, practice.id)
        factories.appointment(session, ana, filler, clock.now().replace(day=22))
        ids = {"practice_id": practice.id, "ana": ana.id}
    add_staff(db_url, ids["practice_id"], name="Mo Manager", role="manager", email="mo@glow.test")
    add_staff(db_url, ids["practice_id"], name="Fi Desk", role="front_desk", email="fi@glow.test")
    return ids


def _signed_in(email: str):
    """A signed-in client and the CSRF token its pages carry."""
    client, _ = sign_in(email)
    return client, csrf_token(client.get("/").get_data(as_text=True))


def _inbound(db_url, body: str) -> Message:
    text_in(body)
    work()
    with session_scope(db_url) as session:
        return session.exec(select(Message).where(Message.direction == "in", Message.body == body)).one()


def test_a_manager_marks_a_decision_wrong_and_it_is_audited(spa, db_url):
    message = _inbound(db_url, "Ana here, call me at 512 555 0143 about my lips")
    client, token = _signed_in("mo@glow.test")
    transcript = client.get(f"/patients/{spa['ana']}").get_data(as_text=True)
    assert f"/messages/{message.id}/correct" in transcript
    answer = client.post(
        f"/messages/{message.id}/correct",
        data={"csrf_token": token, "intent": "side_effect_concern", "urgency": "urgent", "note": "swelling"},
    )
    assert answer.status_code == 302, answer.get_data(as_text=True).split("Bad Request</h1>")[-1][:300]
    with session_scope(db_url) as session:
        row = session.exec(select(Correction)).one()
        audit = session.exec(select(AuditEvent).where(AuditEvent.action == "decision_corrected")).one()
    assert (row.intent, row.urgency, row.original_intent) == (
        "side_effect_concern",
        "urgent",
        message.decision["intent"],
    )
    assert audit.detail["after"] == {"intent": "side_effect_concern", "urgency": "urgent"}
    assert audit.actor.startswith("staff:")


def test_a_bad_correction_changes_nothing_and_says_why(spa, db_url):
    message = _inbound(db_url, "thanks!")
    client, token = _signed_in("mo@glow.test")
    answer = client.post(
        f"/messages/{message.id}/correct",
        data={"csrf_token": token, "intent": "dance", "urgency": "urgent"},
        follow_redirects=True,
    )
    assert "unknown intent" in answer.get_data(as_text=True)
    front_desk, desk_token = _signed_in("fi@glow.test")
    refused = front_desk.post(
        f"/messages/{message.id}/correct", data={"csrf_token": desk_token, "intent": "other", "urgency": "none"}
    )
    assert refused.status_code == 403
    with session_scope(db_url) as session:
        assert session.exec(select(Correction)).all() == []


def test_corrections_export_as_labeled_jsonl_that_eval_reads(spa, db_url, tmp_path, monkeypatch, clock):
    # A guard decides it (ask_for_person), so the correction differs from the decision whatever the model reads.
    wrong = _inbound(db_url, "Ana here, can a real person call me at 512 555 0143 about my lips")
    right = _inbound(db_url, "thanks so much!")
    client, token = _signed_in("mo@glow.test")
    for message, intent, urgency in (
        (wrong, "side_effect_concern", "urgent"),
        (right, right.decision["intent"], "none"),
    ):
        client.post(f"/messages/{message.id}/correct", data={"csrf_token": token, "intent": intent, "urgency": urgency})
    downloaded = client.get("/corrections.jsonl")
    page = client.get("/corrections").get_data(as_text=True)
    assert "2026-11" in page and 'id="export-corrections"' in page
    monkeypatch.setenv("DATABASE_URL", db_url)
    out = tmp_path / "corrections.jsonl"
    assert main(["export", "corrections", "-o", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["intent"] for r in rows] == ["side_effect_concern", right.decision["intent"]]
    assert set(rows[0]) >= {"id", "context", "body", "intent", "urgency", "lang"}
    assert "Ana" not in rows[0]["body"] and "0143" not in rows[0]["body"]  # bodies only: no names, no numbers
    assert rows[0]["context"]["treatment"] == "filler"
    assert evaluate(out)["n"] == 2  # `aftercare eval` reads it
    assert downloaded.mimetype == "application/x-ndjson" and downloaded.data.decode() == out.read_text()
    with session_scope(db_url) as session:
        months = by_month(session, spa["practice_id"])
    assert len(months) == 1 and months[0]["month"] == "2026-11" and months[0]["count"] == 2
    right_first_time = (wrong.decision["intent"] == "side_effect_concern") + 1  # the thanks was read right
    assert months[0]["original_accuracy"] == 100 * right_first_time / 2 and months[0]["urgent"] == 1
    assert months[0]["original_urgent_recall"] == (
        100.0 if wrong.decision.get("urgency") in ("urgent", "emergency") else 0.0
    )
