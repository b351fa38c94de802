"""Per-intent autonomy and drafts: a manager sets an intent to draft or off; staff approve, edit or discard
the drafts in the inbox, and an approved draft goes out through the outbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from store.db import session_scope
from store.models import AuditEvent, Escalation, Message, Practice, StaffUser
from tests import factories
from tests.helpers import PATIENT, add_staff, csrf_token, sent_to, sign_in, text_in, work

NURSE = "+15125550111"
THANKS = "thank you so much, I love my results!"


@pytest.fixture
def spa(settings, clock, db_url):
    """A practice with an on-call nurse and a manager who signs in; Ana had lip filler yesterday."""
    with session_scope(db_url) as session:
        practice = factories.practice(session, emergency_line="+15125550177")
        patient = factories.patient(session, practice.id)
        service = factories.service(session, practice.id)
        factories.appointment(session, patient, service, clock.now() - timedelta(days=1))
        session.add(StaffUser(practice_id=practice.id, name="Nina Nurse", role="nurse", phone=NURSE, on_call=True))
        session.flush()
        ids = {"practice_id": practice.id, "patient_id": patient.id}
    ids["manager"] = add_staff(db_url, ids["practice_id"], name="Mo Manager", role="manager", email="mo@glow.test")
    return ids


def _set(client, **choices):
    token = csrf_token(client.get("/control").get_data(as_text=True))
    data = {"csrf_token": token, **{f"intent:{intent}": value for intent, value in choices.items()}}
    return client.post("/control/autonomy", data=data)


def _draft(db_url) -> Message:
    with session_scope(db_url) as session:
        return session.exec(select(Message).where(Message.status == "draft")).one()


def test_a_drafted_reply_waits_and_goes_edited_when_staff_approve_it(spa, settings, twilio, db_url):
    client, _ = sign_in("mo@glow.test")
    assert _set(client, positive_feedback="draft").status_code == 302
    text_in(THANKS)
    assert sent_to(twilio, PATIENT) == []
    draft = _draft(db_url)
    assert draft.reply_kind == "thanks" and draft.sent_at is None

    inbox = client.get("/").get_data(as_text=True)
    assert "Drafts waiting for approval (1)" in inbox and f"/drafts/{draft.id}/approve" in inbox
    assert "wonderful to hear, Ana!" in inbox
    token = csrf_token(inbox)
    response = client.post(
        f"/drafts/{draft.id}/approve", data={"csrf_token": token, "body": "Thank you, Ana! See you soon."}
    )
    assert response.status_code == 302
    work()
    assert sent_to(twilio, PATIENT) == ["Thank you, Ana! See you soon."]
    with session_scope(db_url) as session:
        sent = session.get(Message, draft.id)
        assert sent.twilio_sid and sent.staff_user_id == spa["manager"]
        assert sent.decision["approved_by"] == spa["manager"] and sent.decision["edited"] is True
        actions = [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))]
        assert "autonomy_changed" in actions and "draft_approved" in actions
    assert "Drafts waiting" not in client.get("/").get_data(as_text=True)
    assert client.post(f"/drafts/{draft.id}/approve", data={"csrf_token": token}).status_code == 404


def test_a_discarded_draft_never_goes(spa, settings, twilio, db_url):
    client, _ = sign_in("mo@glow.test")
    _set(client, positive_feedback="draft")
    text_in(THANKS)
    draft = _draft(db_url)
    token = csrf_token(client.get("/").get_data(as_text=True))
    assert client.post(f"/drafts/{draft.id}/discard", data={"csrf_token": token}).status_code == 302
    work()
    assert sent_to(twilio, PATIENT) == []
    with session_scope(db_url) as session:
        assert session.get(Message, draft.id).status == "discarded"


def test_an_intent_switched_off_gets_no_reply_and_goes_to_the_inbox(spa, settings, twilio, db_url):
    client, _ = sign_in("mo@glow.test")
    _set(client, positive_feedback="off")
    text_in(THANKS)
    assert sent_to(twilio, PATIENT) == []
    with session_scope(db_url) as session:
        assert session.exec(select(Message).where(Message.direction == "out")).all() == []
        item = session.exec(select(Escalation)).one()
        assert item.reason == "needs_reply:bot_off:positive_feedback"


def test_safety_replies_are_never_drafted_nor_switched_off(spa, settings, twilio, db_url):
    client, _ = sign_in("mo@glow.test")
    _set(client, side_effect_concern="off", other="draft", question="draft")
    text_in("my lip is turning white and blotchy and it hurts a lot")
    [reply] = sent_to(twilio, PATIENT)
    assert "911" in reply
    assert sent_to(twilio, NURSE) and sent_to(twilio, NURSE)[0].startswith("EMERGENCY #")


def test_a_bad_choice_changes_nothing(spa, db_url):
    client, _ = sign_in("mo@glow.test")
    response = _set(client, positive_feedback="sometimes", opt_out="off")
    assert response.status_code == 302
    page = client.get("/control").get_data(as_text=True)
    assert "&#39;sometimes&#39; is not one of auto, draft, off" in page
    assert "opt_out: not an intent" in page
    with session_scope(db_url) as session:
        assert session.get(Practice, spa["practice_id"]).autonomy == {}


def test_a_reply_held_by_the_kill_switch_goes_when_staff_approve_it(spa, settings, twilio, db_url):
    client, _ = sign_in("mo@glow.test")
    token = csrf_token(client.get("/control").get_data(as_text=True))
    client.post("/control/kill-switch", data={"state": "on", "csrf_token": token})
    text_in(THANKS)
    assert sent_to(twilio, PATIENT) == []
    draft = _draft(db_url)
    assert draft.decision["held"] == "bot_paused"
    assert "held by the kill switch" in client.get("/").get_data(as_text=True)
    client.post(f"/drafts/{draft.id}/approve", data={"csrf_token": token})
    work()
    assert sent_to(twilio, PATIENT) == [draft.body]


def test_front_desk_approves_drafts_but_may_not_change_autonomy(spa, settings, twilio, db_url):
    add_staff(db_url, spa["practice_id"], email="fran@glow.test", role="front_desk")
    client, _ = sign_in("fran@glow.test")
    assert _set_forbidden(client) == 403


def _set_forbidden(client) -> int:
    token = csrf_token(client.get("/").get_data(as_text=True))
    return client.post("/control/autonomy", data={"csrf_token": token, "intent:other": "off"}).status_code
