"""Planning touches from appointments: idempotent, replaced by newer plans, suppressed by rebooking."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.clock import to_local, to_utc
from bot.touches.planner import plan_appointment
from store.db import session_scope
from store.models import Appointment, Touch
from tests.helpers import seed_visit


def touches(db_url, **filters):
    with session_scope(db_url) as session:
        query = select(Touch).order_by(Touch.due_at)
        for name, value in filters.items():
            query = query.where(getattr(Touch, name) == value)
        return session.exec(query).all()


def plan(db_url, appointment_id):
    with session_scope(db_url) as session:
        return plan_appointment(session, appointment_id)


def test_completed_visit_plans_its_category_and_everyone_steps_once(settings, clock, db_url):
    ids = seed_visit(db_url, start=clock.now())
    created = plan(db_url, ids["appointment_id"])
    steps = {(t.plan, t.step) for t in created}
    assert {
        ("neuromodulator", "checkin"),
        ("neuromodulator", "rebook"),
        ("everyone", "thanks"),
        ("everyone", "review"),
    } <= steps
    assert ("everyone", "winback_12w") not in steps  # the toxin plan has its own reactivation
    assert plan(db_url, ids["appointment_id"]) == []
    assert len(touches(db_url)) == len(created)


def test_day_steps_land_at_their_local_time_of_day(settings, clock, db_url):
    ids = seed_visit(db_url, start=clock.now())  # Monday 10:00 Chicago
    plan(db_url, ids["appointment_id"])
    checkin = touches(db_url, step="checkin")[0]
    local = to_local(checkin.due_at, "America/Chicago")
    assert (local.date().isoformat(), local.hour, local.minute) == ("2026-11-24", 10, 0)
    thanks = touches(db_url, step="thanks")[0]
    assert to_utc(thanks.due_at) == clock.now() + timedelta(minutes=30, hours=3)


def test_newer_visit_replaces_the_older_plans_pending_steps(settings, clock, db_url):
    first = seed_visit(db_url, start=clock.now() - timedelta(days=20))
    plan(db_url, first["appointment_id"])
    second = seed_visit(db_url, start=clock.now(), practice_id=first["practice_id"], patient_id=first["patient_id"])
    plan(db_url, second["appointment_id"])
    old = touches(db_url, appointment_id=first["appointment_id"], step="rebook")[0]
    assert (old.status, old.reason) == ("suppressed", "replaced_by_newer_plan")
    assert touches(db_url, appointment_id=second["appointment_id"], step="rebook")[0].status == "scheduled"


def test_future_booking_suppresses_rebook_and_winback(settings, clock, db_url):
    ids = seed_visit(db_url, category="facial", start=clock.now(), service_name="HydraFacial")
    plan(db_url, ids["appointment_id"])
    booking = seed_visit(
        db_url,
        start=clock.now() + timedelta(days=25),
        status="booked",
        practice_id=ids["practice_id"],
        patient_id=ids["patient_id"],
        category="facial",
    )
    plan(db_url, booking["appointment_id"])
    for step in ("next_session", "winback_12w", "winback_16w"):
        touch = touches(db_url, step=step)[0]
        assert (touch.status, touch.reason) == ("suppressed", "rebooked"), step
    assert touches(db_url, step="care_tips")[0].status == "scheduled"


def test_no_show_gets_one_friendly_care_text(settings, clock, db_url):
    ids = seed_visit(db_url, start=clock.now() - timedelta(hours=1), status="no_show")
    created = plan(db_url, ids["appointment_id"])
    assert [(t.plan, t.step, t.marketing) for t in created] == [("missed", "sorry_missed", False)]
    assert plan(db_url, ids["appointment_id"]) == []


def test_old_visit_imported_late_does_not_text_stale_steps(settings, clock, db_url):
    ids = seed_visit(db_url, start=clock.now() - timedelta(days=30))
    plan(db_url, ids["appointment_id"])
    assert touches(db_url, step="checkin")[0].reason == "past_due_when_planned"
    assert touches(db_url, step="rebook")[0].status == "scheduled"


def test_a_booked_visit_plans_only_its_reminders_and_a_requested_one_nothing(settings, clock, db_url):
    ids = seed_visit(db_url, start=clock.now() + timedelta(days=3), status="booked")
    assert [(t.plan, t.step) for t in plan(db_url, ids["appointment_id"])] == [("upcoming", "reminder")]
    with session_scope(db_url) as session:
        session.get(Appointment, ids["appointment_id"]).status = "requested"
    assert plan(db_url, ids["appointment_id"]) == []
