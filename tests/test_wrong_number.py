"""Texts from the wrong person: a number on file says it is not the patient's, or a number not on file
writes in. Signed webhook, the worker's queues, Redis, the database and the fake Twilio."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from sqlmodel import select

from app import create_app
from bot import runtime
from store.db import session_scope
from store.models import AuditEvent, ConversationState, Escalation, Patient, Touch
from tests.helpers import (
    APPOINTMENT,
    add_touch,
    csrf_token,
    dispatch_all,
    front_desk,
    post_appointment,
    sent_to,
    text_in,
)

STRANGER = "+13055550188"
"""A number no patient has."""


def _items(db_url) -> list[tuple[str, int | None, int | None]]:
    with session_scope(db_url) as session:
        rows = session.exec(select(Escalation).order_by(Escalation.id)).all()
        return [(e.reason, e.patient_id, e.practice_id) for e in rows]


@pytest.mark.parametrize(
    "language, text, apology",
    [
        (
            "en",
            "wrong number, I don't know any Ana",
            "Sorry about that! We've removed this number and won't text it again.",
        ),
        (
            "es",
            "número equivocado, no conozco a ninguna Ana",
            "¡Disculpa la confusión! Quitamos este número y no volveremos a escribir.",
        ),
    ],
)
def test_a_number_on_file_that_is_the_wrong_person_gets_one_apology_every_touch_stops_and_staff_fix_it(
    settings, twilio, clock, spa, db_url, language, text, apology
):
    with session_scope(db_url) as session:
        session.get(Patient, spa["patient_id"]).language = language
    care = add_touch(
        db_url, {**spa, "appointment_id": None}, plan="filler", step="checkin", due_at=clock.now() + timedelta(days=1)
    )
    text_in(text)
    text_in("I told you, wrong number")
    assert sent_to(twilio, "+15125550143") == [apology]
    with session_scope(db_url) as session:
        patient = session.get(Patient, spa["patient_id"])
        assert patient.flagged_at is not None and patient.flag_reason == "wrong_number"
        statuses = {(t.step, t.status, t.reason) for t in session.exec(select(Touch))}
    assert statuses == {("rebook_lips", "suppressed", "wrong_number"), ("checkin", "suppressed", "wrong_number")}
    assert _items(db_url) == [("wrong_number:fix_the_number", spa["patient_id"], spa["practice_id"])]

    # A touch planned later (the practice system sends a new visit) is held back by the flag too.
    with session_scope(db_url) as session:
        session.get(Touch, care).status, session.get(Touch, care).due_at = "scheduled", clock.now()
    clock.advance(hours=1)
    dispatch_all(runtime.settings())
    assert sent_to(twilio, "+15125550143") == [apology]
    with session_scope(db_url) as session:
        assert session.get(Touch, care).reason.startswith("number_flagged: wrong_number")


def test_a_wrong_number_may_still_opt_out_and_gets_the_carrier_confirmation(settings, twilio, clock, spa, db_url):
    runtime.configure(runtime.settings().with_(twilio_confirms_opt_out=False), clock)
    text_in("wrong number")
    text_in("STOP")
    sent = sent_to(twilio, "+15125550143")
    assert len(sent) == 2 and sent[1].startswith("You're unsubscribed from Glow Test Spa texts")


def test_an_unknown_number_gets_no_reply_and_reaches_staff_as_unrouted(settings, twilio, clock, spa, db_url):
    text_in("hi! do you have any botox specials this month?", from_=STRANGER)
    text_in("also what are your hours", from_=STRANGER)
    assert sent_to(twilio, STRANGER) == []
    # One open item for the number, in the practice's inbox (its reason names how the first text read).
    [(reason, patient_id, practice_id)] = _items(db_url)
    assert reason in ("unrouted:rebook_request", "unrouted:question")
    assert (patient_id, practice_id) == (None, spa["practice_id"])
    with session_scope(db_url) as session:
        assert session.exec(select(Patient).where(Patient.phone == STRANGER)).first() is None


def test_an_unknown_number_gets_only_what_carrier_rules_require(settings, twilio, clock, spa, db_url):
    runtime.configure(runtime.settings().with_(twilio_confirms_opt_out=False), clock)
    text_in("HELP", from_=STRANGER)
    text_in("wrong number", from_=STRANGER)
    text_in("STOP", from_=STRANGER)
    text_in("STOP", from_=STRANGER)
    assert sent_to(twilio, STRANGER) == [
        "Glow Test Spa: appointment and aftercare texts. For help call (512) 555-0199. Msg & data rates may apply. "
        "Reply STOP to opt out.",
        "You're unsubscribed from Glow Test Spa texts and won't get any more. Reply START to resubscribe.",
    ]
    assert _items(db_url) == [("unrouted:help", None, spa["practice_id"])]


def test_an_unknown_numbers_red_flag_still_reaches_staff(settings, twilio, clock, spa, db_url):
    text_in("my lip is turning white and blotchy after filler", from_=STRANGER)
    with session_scope(db_url) as session:
        [item] = session.exec(select(Escalation)).all()
    assert item.urgency in ("urgent", "emergency") and item.patient_id is None


NEW_PHONE = "+15125550166"
"""Ana's right number, as staff enter it."""


def _report_wrong_number(db_url, spa) -> None:
    with session_scope(db_url) as session:
        for touch in session.exec(select(Touch)):
            touch.step = "rebook_soft"  # a step the shipped filler plan has, so it renders when sent
    text_in("wrong number, I don't know any Ana")
    with session_scope(db_url) as session:
        assert session.get(Patient, spa["patient_id"]).flag_reason == "wrong_number"


def _after_the_fix(db_url, spa) -> tuple[Patient, set]:
    with session_scope(db_url) as session:
        patient = session.get(Patient, spa["patient_id"])
        touches = {(t.step, t.status, t.reason) for t in session.exec(select(Touch))}
        return patient, touches


def test_staff_fixing_the_number_on_the_patient_page_clears_the_flag_and_plans_again(
    settings, twilio, clock, spa, db_url
):
    _report_wrong_number(db_url, spa)
    client, _ = front_desk(db_url, spa["practice_id"])
    page = client.get(f"/patients/{spa['patient_id']}").get_data(as_text=True)
    assert "Fix number" in page
    response = client.post(
        f"/patients/{spa['patient_id']}/phone", data={"phone": "(512) 555-0166", "csrf_token": csrf_token(page)}
    )
    assert response.status_code == 302
    patient, touches = _after_the_fix(db_url, spa)
    assert (patient.phone, patient.flagged_at, patient.flag_reason) == (NEW_PHONE, None, None)
    assert touches == {("rebook_soft", "scheduled", "planned again: number fixed")}
    with session_scope(db_url) as session:
        assert not session.get(ConversationState, spa["patient_id"]).wrong_number
        [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "number_fixed")).all()
        assert event.detail == {"flag_reason": "wrong_number", "planned_again": 1}
    # The planned text now goes to the right number, and nothing more to the wrong one.
    clock.advance(days=5, hours=1)
    dispatch_all(runtime.settings(), rounds=2)
    assert len(sent_to(twilio, NEW_PHONE)) == 1
    assert len(sent_to(twilio, "+15125550143")) == 1  # the one apology


def test_a_bad_number_on_the_patient_page_changes_nothing(settings, twilio, clock, spa, db_url):
    _report_wrong_number(db_url, spa)
    client, _ = front_desk(db_url, spa["practice_id"])
    page = client.get(f"/patients/{spa['patient_id']}").get_data(as_text=True)
    response = client.post(
        f"/patients/{spa['patient_id']}/phone", data={"phone": "555", "csrf_token": csrf_token(page)}
    )
    assert response.status_code == 302
    assert "That is not a phone number" in client.get(f"/patients/{spa['patient_id']}").get_data(as_text=True)
    patient, _ = _after_the_fix(db_url, spa)
    assert (patient.phone, patient.flag_reason) == ("+15125550143", "wrong_number")


def test_the_practice_system_sending_a_new_number_clears_the_flag(settings, twilio, clock, spa, db_url):
    with session_scope(db_url) as session:
        session.get(Patient, spa["patient_id"]).external_id = "C-88"
    _report_wrong_number(db_url, spa)
    visit = copy.deepcopy(APPOINTMENT)
    visit["patient"] = {**visit["patient"], "phone": NEW_PHONE, "language": "en"}
    response = post_appointment(create_app(runtime.settings()).test_client(), visit)
    assert response.status_code == 200, response.json
    patient, touches = _after_the_fix(db_url, spa)
    assert response.json["patient_id"] == spa["patient_id"]
    assert (patient.phone, patient.flagged_at) == (NEW_PHONE, None)
    assert ("rebook_soft", "scheduled", "planned again: number fixed") in touches
