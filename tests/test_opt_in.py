"""Opting back in: START (or "add me back") after STOP, through the signed webhook, the worker's queues,
Redis, the database and the fake Twilio; one confirmation however the webhook and the worker share it,
the care steps the opt-out stopped planned again, marketing only with marketing consent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot import runtime
from bot.consent.privacy import erase_patient
from bot.touches.planner import plan_appointment
from store.db import session_scope
from store.models import Message, Patient, Touch
from tests.helpers import PATIENT, dispatch_all, seed_visit, sent_to, text_in

CONFIRM = {
    "en": "You're resubscribed to Glow Med Spa appointment and aftercare texts. Reply STOP to opt out at any time.",
    "es": "Vuelves a recibir los mensajes de citas y cuidados de Glow Med Spa. Responde STOP para darte de baja "
    "cuando quieras.",
}


@pytest.fixture
def visit(settings, clock, db_url):
    """Ana's Botox an hour ago with its plan: thanks, check-in, results, rebook, win-back, review and the
    (marketing) referral step."""
    ids = seed_visit(db_url, start=clock.now() - timedelta(hours=1))
    with session_scope(db_url) as session:
        plan_appointment(session, ids["appointment_id"], clock.now())
    return ids


def _touches(db_url) -> dict[str, tuple[str, str | None]]:
    with session_scope(db_url) as session:
        return {t.step: (t.status, t.reason) for t in session.exec(select(Touch))}


def _language(db_url, ids, language):
    with session_scope(db_url) as session:
        session.get(Patient, ids["patient_id"]).language = language


@pytest.mark.parametrize("language", ["en", "es"])
def test_start_is_confirmed_once_when_aftercare_confirms_keywords(settings, twilio, clock, visit, db_url, language):
    runtime.configure(runtime.settings().with_(twilio_confirms_opt_out=False), clock)
    _language(db_url, visit, language)
    text_in("STOP")
    text_in("START")
    text_in("START")
    sent = sent_to(twilio, PATIENT)
    assert len(sent) == 2 and sent[1] == CONFIRM[language]
    with session_scope(db_url) as session:
        patient = session.get(Patient, visit["patient_id"])
        assert patient.opted_out_at is None and patient.care_sms and not patient.marketing_sms
        # The webhook opted the patient in and said so; the worker's handler confirmed.
        start = session.exec(select(Message).where(Message.body == "START").order_by(Message.id)).first()
        assert start.decision["guard"]["opted_in"] == [visit["patient_id"]]
        assert "opted_in:webhook" in start.decision["actions"] and "reply:opt_in" in start.decision["actions"]


def test_the_care_steps_an_opt_out_stopped_are_planned_again_but_not_marketing(settings, twilio, clock, visit, db_url):
    text_in("STOP")
    assert {status for status, _ in _touches(db_url).values()} == {"suppressed"}
    clock.advance(hours=5)  # the "thanks" step (3 h after the visit) fell due while opted out
    text_in("START")
    touches = _touches(db_url)
    for step in ("thanks", "checkin", "results", "rebook", "reactivation", "review"):
        assert touches[step] == ("scheduled", "planned again: opted in"), step
    assert touches["referral"] == ("suppressed", "opted_out")  # marketing: no marketing consent
    assert sent_to(twilio, PATIENT) == []  # Twilio confirms its own keywords (the default)

    dispatch_all(runtime.settings())
    assert len(sent_to(twilio, PATIENT)) == 1  # the thanks, now
    clock.advance(days=1)
    dispatch_all(runtime.settings())
    assert len(sent_to(twilio, PATIENT)) == 2  # and the check-in on its day
    assert _touches(db_url)["checkin"][0] == "sent"


def test_steps_long_past_are_not_sent_late(settings, twilio, clock, visit, db_url):
    text_in("STOP")
    clock.advance(days=3)
    text_in("START")
    touches = _touches(db_url)
    assert touches["thanks"] == ("suppressed", "opted_out")
    assert touches["results"][0] == "scheduled"


def test_marketing_steps_come_back_with_fresh_marketing_consent(settings, twilio, clock, visit, db_url):
    text_in("STOP")
    with session_scope(db_url) as session:
        session.get(Patient, visit["patient_id"]).marketing_sms = True  # signed up again at the front desk
    text_in("START")
    assert _touches(db_url)["referral"] == ("scheduled", "planned again: opted in")


def test_a_free_text_opt_in_is_ours_to_confirm(settings, twilio, clock, visit, db_url):
    text_in("STOP")
    text_in("please add me back to your texts")
    assert sent_to(twilio, PATIENT) == [CONFIRM["en"]]
    assert _touches(db_url)["checkin"][0] == "scheduled"


def test_an_erased_patient_stays_erased(settings, twilio, clock, visit, db_url):
    runtime.configure(runtime.settings().with_(twilio_confirms_opt_out=False), clock)
    with session_scope(db_url) as session:
        erase_patient(session, visit["patient_id"])
    text_in("START")
    assert sent_to(twilio, PATIENT) == []
    with session_scope(db_url) as session:
        patient = session.get(Patient, visit["patient_id"])
        assert patient.opted_out_at is not None and not patient.care_sms and patient.first_name is None
        assert session.exec(select(Touch)).all() == []


@pytest.mark.parametrize("language, text", [("en", "2"), ("es", "2"), ("es", "ok"), ("en", "sure")])
def test_a_pick_or_an_ok_after_stop_is_no_opt_in(settings, twilio, clock, visit, db_url, language, text):
    runtime.configure(runtime.settings().with_(twilio_confirms_opt_out=False), clock)
    _language(db_url, visit, language)
    text_in("STOP")
    text_in(text)  # read against "you're unsubscribed, reply START": not consent to texts again
    assert len(sent_to(twilio, PATIENT)) == 1  # the STOP confirmation, nothing after it
    with session_scope(db_url) as session:
        assert session.get(Patient, visit["patient_id"]).opted_out_at is not None
        answer = session.exec(select(Message).where(Message.body == text)).one()
        assert "opted_in" not in answer.decision["actions"]
    assert _touches(db_url)["checkin"][0] != "scheduled"
