"""Twilio error codes: one table says what each means, and the send and status-callback paths act alike."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot import runtime
from bot.messaging import carrier_errors
from bot.messaging.carrier_errors import Reaction, act_on, reaction
from store.db import session_scope
from store.models import AuditEvent, Patient, Touch
from tests import factories
from tests.helpers import (
    PATIENT,
    TWILIO_TOKEN,
    add_touch,
    dispatch_all,
    outbound_message,
    seed_patient,
    seed_visit,
    touch_row,
)
from tests.twilio_payloads import load, post_signed


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (21610, Reaction.OPT_OUT),
        (21211, Reaction.FLAG_NUMBER),
        (21614, Reaction.FLAG_NUMBER),
        (30003, Reaction.COUNT_UNDELIVERED),
        (30005, Reaction.COUNT_UNDELIVERED),
        (30006, Reaction.COUNT_UNDELIVERED),
        (30007, Reaction.TELL_MANAGER),
        (30008, Reaction.NOTHING),
        (None, Reaction.NOTHING),
    ],
)
def test_each_code_has_one_reaction(code, expected):
    assert reaction(code) is expected


def _patient_with_pending_touch(db_url, clock) -> int:
    with session_scope(db_url) as session:
        practice = factories.practice(session)
        patient = factories.patient(session, practice.id)
        session.add(
            Touch(
                practice_id=practice.id,
                patient_id=patient.id,
                plan="filler",
                step="rebook",
                purpose="rebook",
                due_at=clock.now() + timedelta(days=150),
            )
        )
        return patient.id


def test_a_bad_number_is_flagged_at_once_and_its_touches_cancelled(settings, clock, db_url):
    patient_id = _patient_with_pending_touch(db_url, clock)
    with session_scope(db_url) as session:
        assert act_on(session, session.get(Patient, patient_id), 21211, None, clock.now()) is Reaction.FLAG_NUMBER
    with session_scope(db_url) as session:
        patient = session.get(Patient, patient_id)
        assert patient.flag_reason == "twilio 21211" and patient.undelivered_count == 1
        touch = session.exec(select(Touch).where(Touch.patient_id == patient_id)).one()
        assert (touch.status, touch.reason) == ("suppressed", "number_flagged:21211")


def test_an_unreachable_handset_is_flagged_only_after_the_limit(settings, clock, db_url):
    patient_id = _patient_with_pending_touch(db_url, clock)
    for attempt in range(1, carrier_errors.UNREACHABLE_LIMIT + 1):
        with session_scope(db_url) as session:
            act_on(session, session.get(Patient, patient_id), 30003, None, clock.now())
        with session_scope(db_url) as session:
            flagged = session.get(Patient, patient_id).flagged_at is not None
        assert flagged == (attempt == carrier_errors.UNREACHABLE_LIMIT)


def test_carrier_filtering_tells_the_manager_and_leaves_the_number_alone(settings, clock, db_url):
    patient_id = _patient_with_pending_touch(db_url, clock)
    with session_scope(db_url) as session:
        act_on(session, session.get(Patient, patient_id), 30007, 99, clock.now())
    with session_scope(db_url) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "carrier_filtering")).one()
        assert (event.subject_id, event.detail) == (99, {"code": 30007})
        patient = session.get(Patient, patient_id)
        assert patient.flagged_at is None and patient.opted_out_at is None


def test_not_a_mobile_number_means_the_same_on_send_and_in_a_status_callback(settings, twilio, clock, db_url, request):
    # The send path: the fake Twilio refuses a landline (21614) when the touch goes out.
    ids = seed_visit(db_url, phone="+15125550199")
    touch_id = add_touch(db_url, ids)
    dispatch_all(runtime.settings())
    assert touch_row(db_url, touch_id).status == "failed"
    # The status-callback path: a text accepted, then reported undelivered with the same code.
    client = request.getfixturevalue("client")  # after the send: the app configures the runtime anew
    other_id = seed_patient(db_url, clock, phone=PATIENT.replace("43", "44"))
    outbound_message(db_url, "SM" + "7" * 32, patient_id=other_id)
    params = load("status_undelivered_30003", MessageSid="SM" + "7" * 32, SmsSid="SM" + "7" * 32, ErrorCode="21614")
    assert post_signed(client, "/sms/status", params, TWILIO_TOKEN).status_code == 204
    with session_scope(db_url) as session:
        sent, callback = session.get(Patient, ids["patient_id"]), session.get(Patient, other_id)
        assert (sent.flag_reason, callback.flag_reason) == ("twilio 21614", "twilio 21614")
        assert sent.undelivered_count == callback.undelivered_count == 1
        pending = session.exec(select(Touch).where(Touch.patient_id == other_id)).one()
        assert pending.reason == "number_flagged:21614"
