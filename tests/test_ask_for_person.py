"""Asking for a person hands the conversation to staff; decisions no one should act on alone go to staff too.

Texts go through the signed webhook and the real worker (tests/helpers.py), on a real
database and Redis, and leave through the fake Twilio over HTTP.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot import runtime
from bot.staff import handover
from bot.understanding.decision import Decision
from handlers import Turn, route
from store.db import session_scope
from store.models import ConversationState, Escalation, Message, Patient, Practice
from tests import factories
from tests.helpers import PATIENT, next_sid, sent_to, text_in, work


def escalation(db_url) -> Escalation:
    with session_scope(db_url) as session:
        return session.exec(select(Escalation).order_by(Escalation.id.desc())).first()


def _inbound(session, patient: Patient, body: str) -> Message:
    message = Message(
        practice_id=patient.practice_id,
        patient_id=patient.id,
        direction="in",
        kind="inbound",
        from_number=patient.phone,
        to_number=factories.AUSTIN_NUMBER,
        body=body,
        twilio_sid=next_sid(),
        created_at=runtime.clock().now(),
    )
    session.add(message)
    session.flush()
    return message


def test_asking_for_a_person_hands_over_to_staff_and_says_when(settings, twilio, clock, spa, db_url):
    text_in("can I talk to a real person please")
    [reply] = sent_to(twilio, PATIENT)
    assert reply.startswith("Of course, Ana. A person from our team will text you back")
    found = escalation(db_url)
    assert found.urgency == "routine" and found.reason == "needs_reply:ask_for_person" and found.status == "open"
    with session_scope(db_url) as session:
        state = session.get(ConversationState, spa["patient_id"])
        assert state.takeover_until is not None and state.takeover_until > clock.now()
        message = session.exec(select(Message).where(Message.direction == "in")).one()
        assert message.decision["intent"] == "ask_for_person" and message.decision["handler"] == "ask_for_person.handle"
    text_in("hello?")  # the bot stays quiet while staff have it
    assert len(sent_to(twilio, PATIENT)) == 1


def test_the_practice_hours_say_when_a_person_replies(settings, twilio, clock, spa, db_url):
    with session_scope(db_url) as session:
        practice = session.get(Practice, spa["practice_id"])
        practice.facts = {**(practice.facts or {}), "hours": {"en": "Mon-Fri 9-6", "es": "lun a vie 9-6"}}
        session.add(practice)
    text_in("is this a bot?")
    [reply] = sent_to(twilio, PATIENT)
    assert "during our hours (Mon-Fri 9-6)" in reply


def _route(db_url, spa, settings, clock, decision: Decision, body: str) -> Turn:
    with session_scope(db_url) as session:
        patient = session.get(Patient, spa["patient_id"])
        turn = Turn(
            session=session,
            message=_inbound(session, patient, body),
            patient=patient,
            decision=decision,
            now=clock.now(),
            settings=settings,
        )
        route(turn)
        return turn


def test_a_model_opt_out_is_only_confirmed_by_staff(settings, twilio, clock, spa, db_url):
    decision = Decision("opt_out", "none", {}, 0.93, "model", "local", needs_confirmation=True, threshold=0.8)
    turn = _route(db_url, spa, settings, clock, decision, "i think i'm done with all this")
    assert turn.outbound == [] and "opt_out_unconfirmed" in turn.actions
    with session_scope(db_url) as session:
        assert session.get(Patient, spa["patient_id"]).opted_out_at is None
        item = session.exec(select(Escalation)).one()
        assert item.reason == "needs_reply:looks_like_opt_out_please_confirm"


def test_a_decision_below_its_threshold_gets_a_holding_reply_and_staff(settings, twilio, clock, spa, db_url):
    decision = Decision("rebook_request", "none", {}, 0.31, "model", "local", threshold=0.49, needs_review=True)
    turn = _route(db_url, spa, settings, clock, decision, "hmm maybe something thursday-ish?")
    assert [a for a in turn.actions if a.startswith("reply:")] == ["reply:holding"]
    with session_scope(db_url) as session:
        item = session.exec(select(Escalation)).one()
        assert item.reason == "needs_reply:low_confidence:rebook_request:0.31"


@pytest.mark.parametrize(
    "language, text, expected",
    [
        (
            "en",
            "can I talk to a real person please",
            "Of course, Ana. We're closed now; a person from our team will text you after 9:00 AM tomorrow. "
            "For anything urgent, call (512) 555-0199.",
        ),
        (
            "es",
            "¿puedo hablar con una persona?",
            "Claro, Ana. Ya cerramos; alguien del equipo te escribirá después de las 9:00 de mañana. "
            "Si es urgente: (512) 555-0199.",
        ),
    ],
)
def test_after_hours_the_patient_is_told_when_the_practice_opens_again(
    settings, twilio, clock, spa, db_url, language, text, expected
):
    with session_scope(db_url) as session:
        session.get(Patient, spa["patient_id"]).language = language
    clock.advance(hours=10)  # Monday 20:00 in Austin; Maya starts at 9:00 on Tuesday
    text_in(text)
    assert sent_to(twilio, PATIENT) == [expected]
    assert escalation(db_url).reason == "needs_reply:ask_for_person"
    with session_scope(db_url) as session:
        assert session.get(ConversationState, spa["patient_id"]).takeover_until > clock.now()


# ------------------------------------------------------------------ nobody picked it up


NURSE_PHONE = "+15125550122"


def _nurse_on_call(db_url, spa) -> None:
    with session_scope(db_url) as session:
        factories.staff(session, spa["practice_id"], on_call=True, phone=NURSE_PHONE, email=None)


def test_staff_are_texted_once_when_nobody_picks_up_a_handover_during_open_hours(settings, twilio, clock, spa, db_url):
    _nurse_on_call(db_url, spa)
    text_in("can I talk to a real person please")  # Monday 10:00: open
    clock.advance(minutes=5)
    assert handover.sweep() == 0  # not yet ten minutes
    clock.advance(minutes=6)
    assert handover.sweep() == 1
    assert handover.sweep() == 0  # once
    work()
    item = escalation(db_url)
    assert sent_to(twilio, NURSE_PHONE) == [
        f"#{item.id}: Ana R. asked to talk to a person 10 min ago and nobody has answered yet. "
        f"Please text them back from the inbox. http://aftercare.test/patients/{spa['patient_id']} Reply ACK {item.id} to take it."
    ]
    text_in(f"ACK {item.id}", from_=NURSE_PHONE)
    assert escalation(db_url).status == "acknowledged"


def test_after_hours_the_nudge_waits_for_the_opening(settings, twilio, clock, spa, db_url):
    _nurse_on_call(db_url, spa)
    clock.advance(hours=10)  # Monday 20:00: closed
    text_in("can I talk to a real person please")
    clock.advance(minutes=30)
    assert handover.sweep() == 0
    clock.advance(hours=12, minutes=31)  # Tuesday 9:01: open
    assert handover.sweep() == 1


def test_no_nudge_when_staff_already_picked_it_up(settings, twilio, clock, spa, db_url):
    _nurse_on_call(db_url, spa)
    text_in("can I talk to a real person please")
    with session_scope(db_url) as session:
        session.get(Escalation, escalation(db_url).id).status = "acknowledged"
    clock.advance(minutes=11)
    assert handover.sweep() == 0
    assert sent_to(twilio, NURSE_PHONE) == []
