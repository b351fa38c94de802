"""Before a booked visit: reminders and prep texts counted back from its start, moved with it, dropped with it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot import runtime
from bot.touches.planner import plan_appointment
from store.db import session_scope
from store.models import Appointment
from tests.helpers import dispatch_all, seed_visit, touch_row

THURSDAY_4PM_CHICAGO = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)
"""A visit three days after the tests' Monday 10:00 in Chicago."""


def _plan(db_url, appointment_id):
    with session_scope(db_url) as session:
        return plan_appointment(session, appointment_id)


def _utc(touch):
    return touch.due_at.replace(tzinfo=UTC)


def _move(db_url, appointment_id, **fields):
    with session_scope(db_url) as session:
        appointment = session.get(Appointment, appointment_id)
        for name, value in fields.items():
            setattr(appointment, name, value)


def test_a_booked_visit_plans_prep_and_a_reminder_counted_back_from_its_start(settings, clock, db_url):
    ids = seed_visit(db_url, start=THURSDAY_4PM_CHICAGO + timedelta(days=2), status="booked")  # Saturday
    created = {t.step: _utc(t) for t in _plan(db_url, ids["appointment_id"])}
    assert created == {
        "prep_injectable": datetime(2026, 11, 25, 16, 0, tzinfo=UTC),  # Wed 10:00 CST
        "reminder": datetime(2026, 11, 27, 16, 0, tzinfo=UTC),
    }  # Fri 10:00 CST
    assert _plan(db_url, ids["appointment_id"]) == []


def test_steps_already_past_when_booked_are_left_out(settings, clock, db_url):
    ids = seed_visit(db_url, start=clock.now() + timedelta(hours=20), status="booked")  # tomorrow 06:00 Chicago
    assert _plan(db_url, ids["appointment_id"]) == []  # the reminder would be today 10:00, i.e. now


def test_categories_get_their_own_prep(settings, clock, db_url):
    laser = seed_visit(
        db_url,
        category="laser_hair_removal",
        start=clock.now() + timedelta(days=10),
        status="booked",
        service_name="Laser hair removal, legs",
    )
    facial = seed_visit(
        db_url,
        category="facial",
        start=clock.now() + timedelta(days=10),
        status="booked",
        practice_id=laser["practice_id"],
        patient_id=laser["patient_id"],
        service_name="HydraFacial",
    )
    assert {t.step for t in _plan(db_url, laser["appointment_id"])} == {"prep_laser", "reminder"}
    assert {t.step for t in _plan(db_url, facial["appointment_id"])} == {"reminder"}


def test_a_moved_visit_moves_its_reminders(settings, clock, db_url):
    ids = seed_visit(db_url, start=THURSDAY_4PM_CHICAGO + timedelta(days=2), status="booked")
    first = {t.step: t for t in _plan(db_url, ids["appointment_id"])}
    _move(
        db_url,
        ids["appointment_id"],
        start_at=THURSDAY_4PM_CHICAGO + timedelta(days=7),
        end_at=THURSDAY_4PM_CHICAGO + timedelta(days=7, minutes=30),
    )
    again = {t.step: _utc(t) for t in _plan(db_url, ids["appointment_id"])}
    assert again == {
        "prep_injectable": datetime(2026, 11, 30, 16, 0, tzinfo=UTC),
        "reminder": datetime(2026, 12, 2, 16, 0, tzinfo=UTC),
    }
    for step, touch in first.items():
        old = touch_row(db_url, touch.id)
        assert (old.status, old.reason) == ("suppressed", "rescheduled"), step


@pytest.mark.parametrize("status", ["cancelled", "no_show"])
def test_a_cancelled_visit_drops_its_reminders(settings, clock, db_url, status):
    ids = seed_visit(db_url, start=THURSDAY_4PM_CHICAGO, status="booked")
    [reminder] = _plan(db_url, ids["appointment_id"])
    _move(db_url, ids["appointment_id"], status=status)
    _plan(db_url, ids["appointment_id"])
    row = touch_row(db_url, reminder.id)
    assert (row.status, row.reason) == ("suppressed", f"appointment_{status}")


def test_a_completed_visit_drops_pending_reminders_and_gets_its_plan(settings, clock, db_url):
    ids = seed_visit(db_url, start=THURSDAY_4PM_CHICAGO, status="booked")
    [reminder] = _plan(db_url, ids["appointment_id"])
    _move(db_url, ids["appointment_id"], status="completed")
    after = {(t.plan, t.step) for t in _plan(db_url, ids["appointment_id"])}
    assert ("neuromodulator", "checkin") in after and ("everyone", "thanks") in after
    assert touch_row(db_url, reminder.id).status == "suppressed"


@pytest.mark.parametrize(
    "language, expected",
    [
        (
            "en",
            "Hi Ana, it's Maya at Glow Med Spa. See you Thursday, Nov 26 at 4:00 PM for your Botox forehead with "
            "Dr. Lee. Need to change it? Just reply here or call (512) 555-0100.",
        ),
        (
            "es",
            "Glow Med Spa: Ana, te esperamos el miércoles 25 de noviembre a las 16:00 con Dr. Lee. ¿Cambios? "
            "Escríbenos.",
        ),
    ],
)
def test_the_reminder_names_the_visits_local_day_and_time(
    settings,
    twilio,
    clock,
    db_url,
    language,
    expected,
):
    start = THURSDAY_4PM_CHICAGO if language == "en" else THURSDAY_4PM_CHICAGO - timedelta(days=1)
    ids = seed_visit(db_url, start=start, status="booked", language=language)
    [reminder] = _plan(db_url, ids["appointment_id"])
    clock.set(_utc(reminder) + timedelta(minutes=1))
    dispatch_all(runtime.settings(), rounds=2)
    assert [m["body"] for m in twilio.messages] == [expected]


def test_a_reminder_for_a_visit_no_longer_ahead_is_skipped(settings, twilio, clock, db_url):
    ids = seed_visit(db_url, start=THURSDAY_4PM_CHICAGO, status="booked")
    [reminder] = _plan(db_url, ids["appointment_id"])
    _move(
        db_url, ids["appointment_id"], start_at=clock.now() + timedelta(days=1), end_at=clock.now() + timedelta(days=1)
    )
    clock.set(_utc(reminder) + timedelta(days=1))  # the visit (moved without a sync) has started
    dispatch_all(runtime.settings(), rounds=2)
    assert twilio.messages == []
    row = touch_row(db_url, reminder.id)
    assert (row.status, row.reason) == ("skipped", "visit_no_longer_ahead")
