"""'Not now': one check-back on the day the patient named, earlier rebook texts held back."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from bot import runtime
from handlers.defer import check_back_day
from store.db import session_scope
from store.models import Touch
from tests import factories
from tests.helpers import PATIENT, dispatch_all, sent_to, text_in


@pytest.fixture
def ana(settings, clock, db_url):
    """Ana had lip filler four months ago; a rebook text is due in ten days and another in ten weeks."""
    with session_scope(db_url) as session:
        practice = factories.practice(session)
        patient = factories.patient(session, practice.id)
        service = factories.service(session, practice.id)
        visit = factories.appointment(session, patient, service, clock.now() - timedelta(days=120))
        for step, days in (("rebook_lips", 10), ("winback_16w", 70)):
            session.add(
                Touch(
                    practice_id=practice.id,
                    patient_id=patient.id,
                    appointment_id=visit.id,
                    plan="filler",
                    step=step,
                    purpose="rebook",
                    due_at=clock.now() + timedelta(days=days),
                )
            )
        return {"patient_id": patient.id}


def _touches(db_url):
    with session_scope(db_url) as session:
        return {(t.plan, t.step, t.status): t for t in session.exec(select(Touch).order_by(Touch.id))}


def test_not_now_schedules_one_check_back_on_the_day_named(settings, twilio, clock, ana, db_url):
    text_in("not right now, maybe next month")
    assert sent_to(twilio, PATIENT) == [
        "No problem, Ana! We'll check back on Wednesday, Dec 23. If you're ready sooner, just text us here."
    ]
    touches = _touches(db_url)
    nudge = touches[("deferred", "nudge", "scheduled")]
    assert nudge.due_at.replace(tzinfo=UTC) == datetime(2026, 12, 23, 17, 0, tzinfo=UTC)  # 11:00 CST
    assert touches[("filler", "rebook_lips", "suppressed")].reason == "deferred_by_patient"
    assert ("filler", "winback_16w", "scheduled") in touches  # due after the check-back: kept


def test_without_a_named_time_the_check_back_is_in_thirty_days(settings, twilio, clock, ana, db_url):
    text_in("not now, maybe later")
    nudge = _touches(db_url)[("deferred", "nudge", "scheduled")]
    assert nudge.due_at.replace(tzinfo=UTC) == datetime(2026, 12, 23, 17, 0, tzinfo=UTC)


def test_a_newer_not_now_replaces_the_check_back(settings, twilio, clock, ana, db_url):
    text_in("not right now, maybe next month")
    clock.advance(days=1)
    text_in("actually, can you text me after the holidays instead")
    touches = _touches(db_url)
    assert touches[("deferred", "nudge", "suppressed")].reason == "deferred_by_patient"
    assert touches[("deferred", "nudge", "scheduled")].due_at.replace(tzinfo=UTC) == datetime(
        2027, 1, 6, 17, 0, tzinfo=UTC
    )


def test_the_check_back_goes_out_on_its_day(settings, twilio, clock, ana, db_url):
    text_in("not right now, in 2 weeks")
    clock.set(datetime(2026, 12, 7, 17, 1, tzinfo=UTC))
    dispatch_all(runtime.settings(), rounds=2)
    assert sent_to(twilio, PATIENT)[-1] == (
        "Hi Ana, it's the team at Glow Test Spa. You asked us to check back about "
        "your next Lip filler. Want us to find you a time? Just reply here or call "
        "(512) 555-0199."
    )


@pytest.mark.parametrize(
    "words, expected",
    [
        ("maybe next month", date(2026, 12, 23)),
        ("not right now, in 2 weeks", date(2026, 12, 7)),
        ("in a few days", date(2026, 11, 26)),
        ("text me after the holidays", date(2027, 1, 6)),
        ("in january", date(2027, 1, 5)),
        ("maybe in the summer", date(2027, 6, 1)),
        ("friday works better", date(2026, 11, 27)),
        ("el mes que viene", date(2026, 12, 23)),
        ("en dos semanas", date(2026, 12, 7)),
        ("despues de las fiestas", date(2027, 1, 6)),
        ("not now", None),
        ("I may come back later", None),
    ],
)
def test_check_back_day_reads_the_patients_words(words, expected):
    assert check_back_day(words, date(2026, 11, 23)) == expected
