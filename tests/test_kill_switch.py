"""The kill switch: a manager stops every touch and bot reply at once; paging and safety replies still go."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.consent import gate
from bot.messaging import outbox
from bot.vocabulary import MessageKind
from store.db import session_scope
from store.models import AuditEvent, Escalation, Message, Patient, Practice, StaffUser, Touch
from tests import factories
from tests.helpers import PATIENT, add_staff, csrf_token, dispatch_all, sent_to, sign_in, text_in, touch_row

NURSE = "+15125550111"
EMERGENCY_LINE = "+15125550177"


@pytest.fixture
def spa(settings, clock, db_url):
    """A practice with an on-call nurse and a manager who signs in, Ana seen for filler yesterday, and her
    thank-you touch due now (10:00 in Austin, inside quiet hours)."""
    with session_scope(db_url) as session:
        practice = factories.practice(session, emergency_line=EMERGENCY_LINE)
        patient = factories.patient(session, practice.id)
        service = factories.service(session, practice.id)
        visit = factories.appointment(session, patient, service, clock.now() - timedelta(days=1))
        session.add(StaffUser(practice_id=practice.id, name="Nina Nurse", role="nurse", phone=NURSE, on_call=True))
        touch = Touch(
            practice_id=practice.id,
            patient_id=patient.id,
            appointment_id=visit.id,
            plan="everyone",
            step="thanks",
            purpose="care",
            due_at=clock.now(),
        )
        session.add(touch)
        session.flush()
        ids = {"practice_id": practice.id, "patient_id": patient.id, "touch_id": touch.id}
    ids["manager"] = add_staff(db_url, ids["practice_id"], name="Mo Manager", role="manager", email="mo@glow.test")
    return ids


def _switch(client, _token, state: str):
    token = csrf_token(client.get("/control").get_data(as_text=True))  # the signed-in session's token
    response = client.post("/control/kill-switch", data={"state": state, "csrf_token": token})
    assert response.status_code == 302
    return response


def _courtesy_reply(db_url, ids, reply_kind="thanks", body="Thank you, Ana!") -> int:
    with session_scope(db_url) as session:
        return outbox.queue_text(
            session,
            key=f"reply-test-{reply_kind}",
            to=PATIENT,
            from_=factories.AUSTIN_NUMBER,
            body=body,
            kind=MessageKind.REPLY,
            reply_kind=reply_kind,
            practice_id=ids["practice_id"],
            patient_id=ids["patient_id"],
        ).id


def test_a_manager_turns_it_on_and_every_page_says_so_and_the_audit_log_has_it(spa, db_url):
    client, token = sign_in("mo@glow.test")
    assert "Kill switch on" not in client.get("/").get_data(as_text=True)
    _switch(client, token, "on")
    for page in ("/", "/patients", "/control", f"/patients/{spa['patient_id']}"):
        assert "Kill switch on (Mo Manager" in client.get(page).get_data(as_text=True), page
    _switch(client, token, "off")
    assert "Kill switch on" not in client.get("/").get_data(as_text=True)
    with session_scope(db_url) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.subject_type == "practice")).all()
        assert [(e.action, e.actor, e.detail) for e in events] == [
            ("kill_switch_on", f"staff:{spa['manager']}", {"before": "off", "after": "on"}),
            ("kill_switch_off", f"staff:{spa['manager']}", {"before": "on", "after": "off"}),
        ]


def test_front_desk_may_not_touch_the_switch(spa, db_url):
    add_staff(db_url, spa["practice_id"], email="fran@glow.test", role="front_desk")
    client, token = sign_in("fran@glow.test")
    assert client.get("/control").status_code == 403
    token = csrf_token(client.get("/").get_data(as_text=True))
    assert client.post("/control/kill-switch", data={"state": "on", "csrf_token": token}).status_code == 403
    with session_scope(db_url) as session:
        assert session.get(Practice, spa["practice_id"]).paused_at is None


def test_a_queued_touch_waits_while_it_is_on_and_goes_when_it_is_off(spa, settings, twilio, db_url, clock):
    client, token = sign_in("mo@glow.test")
    _switch(client, token, "on")
    dispatch_all(settings, rounds=2)
    assert sent_to(twilio, PATIENT) == []
    held = touch_row(db_url, spa["touch_id"])
    assert (held.status, held.reason) == ("scheduled", "bot_paused: held while the kill switch is on")
    assert held.due_at == clock.now().replace(tzinfo=held.due_at.tzinfo)  # still due as planned

    _switch(client, token, "off")
    clock.advance(minutes=5)
    dispatch_all(settings)
    assert len(sent_to(twilio, PATIENT)) == 1
    assert touch_row(db_url, spa["touch_id"]).status == "sent"


def test_a_touch_whose_moment_passed_while_it_was_on_is_skipped_with_its_reason(spa, settings, twilio, db_url, clock):
    client, token = sign_in("mo@glow.test")
    _switch(client, token, "on")
    dispatch_all(settings)
    clock.advance(days=4)
    client, token = sign_in("mo@glow.test")  # the first session ended while idle
    _switch(client, token, "off")
    dispatch_all(settings)
    assert sent_to(twilio, PATIENT) == []
    skipped = touch_row(db_url, spa["touch_id"])
    assert skipped.status == "skipped" and skipped.reason.startswith("too_late")


def test_the_gate_refuses_touches_and_bot_replies_but_not_safety_pages_or_staff(spa, settings, db_url, clock):
    now = clock.now()
    with session_scope(db_url) as session:
        session.get(Practice, spa["practice_id"]).paused_at = now
    with session_scope(db_url) as session:
        patient = session.get(Patient, spa["patient_id"])
        assert gate.refusal(session, patient, now, kind=MessageKind.TOUCH) == gate.PAUSED
        assert gate.refusal(session, patient, now, kind=MessageKind.REPLY, reply_kind="thanks") == gate.PAUSED
        for kind in ("emergency", "urgent", "opt_out", "help"):
            assert gate.refusal(session, patient, now, kind=MessageKind.REPLY, reply_kind=kind) is None
        assert gate.refusal(session, patient, now, kind=MessageKind.STAFF) is None
        assert gate.refusal(session, patient, now, kind=MessageKind.PAGE) is None


def test_a_queued_courtesy_reply_is_held_as_a_draft_and_an_emergency_reply_still_goes(spa, settings, twilio, db_url):
    courtesy = _courtesy_reply(db_url, spa)
    emergency = _courtesy_reply(db_url, spa, "emergency", "Call 911 or the clinic emergency line now.")
    client, token = sign_in("mo@glow.test")
    _switch(client, token, "on")

    assert outbox.deliver(courtesy) == "held: bot_paused"
    assert outbox.deliver(emergency) == "sent"
    assert sent_to(twilio, PATIENT) == ["Call 911 or the clinic emergency line now."]
    with session_scope(db_url) as session:
        held = session.get(Message, courtesy)
        assert (held.status, held.decision) == ("draft", {"held": "bot_paused"})


def test_an_emergency_text_still_pages_and_is_answered_while_it_is_on(spa, settings, twilio, db_url):
    client, token = sign_in("mo@glow.test")
    _switch(client, token, "on")
    text_in("my lip is turning white and blotchy and it hurts a lot")
    dispatch_all(settings)

    [reply] = sent_to(twilio, PATIENT)  # the safety reply, and no thank-you touch
    assert "911" in reply and "(512) 555-0177" in reply
    [page] = sent_to(twilio, NURSE)
    assert page.startswith("EMERGENCY #")
    with session_scope(db_url) as session:
        escalation = session.exec(select(Escalation)).one()
        assert escalation.urgency == "emergency" and escalation.paged_at is not None
    assert touch_row(db_url, spa["touch_id"]).status == "scheduled"
