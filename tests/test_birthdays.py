"""Birthday and VIP texts: planned once a year, sent on the day in the patient's time zone, only with marketing consent."""

from __future__ import annotations

import io
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

import worker
from bot import runtime
from bot.queue import redis_connection
from bot.touches.planner import plan_appointment, plan_birthdays
from bot.touches.plans import load
from bot.touches.preview import main_simulate
from store.db import session_scope
from store.models import Patient, Touch
from tests.helpers import dispatch_all, seed_visit, touch_row

CHICAGO_TEN_AM = 16  # 10:00 in Chicago in November is 16:00 UTC


def _patient(db_url, ids, **fields):
    with session_scope(db_url) as session:
        patient = session.get(Patient, ids["patient_id"])
        for name, value in fields.items():
            setattr(patient, name, value)


def _birthday_touches(db_url):
    with session_scope(db_url) as session:
        return session.exec(select(Touch).where(Touch.plan == "birthday").order_by(Touch.id)).all()


def _plan(db_url, **kwargs):
    with session_scope(db_url) as session:
        return plan_birthdays(session, **kwargs)


def test_birthday_is_planned_once_for_10am_local_on_the_day(settings, clock, db_url):
    ids = seed_visit(db_url, marketing=True, start=clock.now() - timedelta(days=40))
    _patient(db_url, ids, birthday=date(1990, 11, 27))
    created = _plan(db_url)
    assert [(t.step, t.purpose, t.marketing, t.status) for t in created] == [
        ("birthday", "birthday", True, "scheduled")
    ]
    assert created[0].due_at.replace(tzinfo=UTC) == datetime(2026, 11, 27, CHICAGO_TEN_AM, tzinfo=UTC)
    assert created[0].appointment_id == ids["appointment_id"]
    assert _plan(db_url) == []
    clock.advance(days=3)
    assert _plan(db_url) == []  # still this year's birthday
    assert len(_birthday_touches(db_url)) == 1


def test_next_years_birthday_is_planned_again(settings, clock, db_url):
    ids = seed_visit(db_url, marketing=True, start=clock.now() - timedelta(days=40))
    _patient(db_url, ids, birthday=date(1985, 11, 25))
    assert len(_plan(db_url)) == 1
    clock.advance(days=365)
    again = _plan(db_url)
    assert len(again) == 1
    assert again[0].due_at.replace(tzinfo=UTC).date() == date(2027, 11, 25)


@pytest.mark.parametrize(
    "fields, visit_status",
    [
        ({"marketing_sms": False}, "completed"),  # a birthday offer is marketing
        ({"opted_out_at": datetime(2026, 10, 1, tzinfo=UTC)}, "completed"),
        ({"flagged_at": datetime(2026, 10, 1, tzinfo=UTC)}, "completed"),
        ({"birthday": None}, "completed"),
        ({}, "booked"),  # never came in yet
        ({"birthday": date(1990, 12, 20)}, "completed"),  # beyond the week ahead
        ({"birthday": date(1990, 11, 20)}, "completed"),  # three days ago: no belated offer
    ],
)
def test_birthday_is_not_planned_when_it_does_not_apply(settings, clock, db_url, fields, visit_status):
    ids = seed_visit(db_url, marketing=True, status=visit_status, start=clock.now() - timedelta(days=40))
    _patient(db_url, ids, **{"birthday": date(1990, 11, 26), **fields})
    assert _plan(db_url) == []


def test_vip_patients_get_the_vip_birthday_text_and_vip_visit_steps(settings, clock, db_url):
    ids = seed_visit(db_url, marketing=True, start=clock.now() - timedelta(hours=2))
    _patient(db_url, ids, birthday=date(1990, 11, 24), vip=True)
    assert [t.step for t in _plan(db_url)] == ["birthday_vip"]
    with session_scope(db_url) as session:
        steps = {t.step for t in plan_appointment(session, ids["appointment_id"])}
    assert "vip_first_pick" in steps
    other = seed_visit(db_url, phone="+15125550144", marketing=True, start=clock.now() - timedelta(hours=2))
    with session_scope(db_url) as session:
        assert "vip_first_pick" not in {t.step for t in plan_appointment(session, other["appointment_id"])}


def test_a_29_february_birthday_falls_on_the_28th_in_other_years(settings, clock, db_url):
    clock.set(datetime(2027, 2, 24, 16, 0, tzinfo=UTC))
    ids = seed_visit(db_url, marketing=True, start=clock.now() - timedelta(days=40))
    _patient(db_url, ids, birthday=date(1992, 2, 29))
    (touch,) = _plan(db_url)
    assert touch.due_at.replace(tzinfo=UTC) == datetime(2027, 2, 28, CHICAGO_TEN_AM, tzinfo=UTC)


def test_the_birthday_text_goes_out_on_the_day_and_not_before(settings, twilio, clock, db_url):
    ids = seed_visit(db_url, marketing=True, language="es", start=clock.now() - timedelta(days=40))
    _patient(db_url, ids, birthday=date(1990, 11, 25))
    (touch,) = _plan(db_url)
    dispatch_all(runtime.settings())
    assert twilio.messages == []
    clock.set(datetime(2026, 11, 25, CHICAGO_TEN_AM, 1, tzinfo=UTC))
    dispatch_all(runtime.settings(), rounds=2)
    assert len(twilio.messages) == 1
    assert twilio.messages[0]["body"].startswith(
        "¡Feliz cumpleaños, Ana! Glow Med Spa te regala un extra en tu visita este mes."
    )
    assert "STOP" in twilio.messages[0]["body"]
    assert touch_row(db_url, touch.id).status == "sent"


def test_consent_withdrawn_after_planning_skips_the_birthday_text(settings, twilio, clock, db_url):
    ids = seed_visit(db_url, marketing=True, start=clock.now() - timedelta(days=40))
    _patient(db_url, ids, birthday=date(1990, 11, 23))
    (touch,) = _plan(db_url)
    _patient(db_url, ids, marketing_sms=False)
    clock.set(datetime(2026, 11, 23, 17, 0, tzinfo=UTC))
    dispatch_all(runtime.settings(), rounds=2)
    assert twilio.messages == []
    row = touch_row(db_url, touch.id)
    assert (row.status, row.reason) == ("skipped", "no_marketing_consent")


def test_the_latest_visit_carries_the_birthday_touch(settings, clock, db_url):
    ids = seed_visit(db_url, marketing=True, start=clock.now() - timedelta(days=200))
    newer = seed_visit(
        db_url,
        marketing=True,
        start=clock.now() - timedelta(days=20),
        practice_id=ids["practice_id"],
        patient_id=ids["patient_id"],
    )
    _patient(db_url, ids, birthday=date(1990, 11, 28))
    (touch,) = _plan(db_url)
    assert touch.appointment_id == newer["appointment_id"]


def test_only_one_worker_plans_birthdays_at_a_time(settings, clock, db_url):
    ids = seed_visit(db_url, marketing=True, start=clock.now() - timedelta(days=40))
    _patient(db_url, ids, birthday=date(1990, 11, 26))
    lock = redis_connection(settings).lock("aftercare:lock:plan-birthdays", timeout=60)
    assert lock.acquire(blocking=False)
    try:
        assert worker.plan_birthdays() == 0
        assert _birthday_touches(db_url) == []
    finally:
        lock.release()
    results = []
    threads = [threading.Thread(target=lambda: results.append(worker.plan_birthdays())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 1 and len(_birthday_touches(db_url)) == 1


def test_simulate_shows_a_birthday_inside_the_window_and_keeps_nothing(settings, clock, db_url):
    ids = seed_visit(db_url, marketing=True, start=clock.now() - timedelta(days=40))
    _patient(db_url, ids, birthday=date(1990, 3, 14))
    out = io.StringIO()
    assert main_simulate(["--days", "180", "--practice", str(ids["practice_id"])], out=out) == 0
    text = out.getvalue()
    assert "Sun 2027-03-14 10:00 CDT" in text and "birthday.birthday" in text
    assert "WOULD SEND" in text and "Happy birthday, Ana!" in text
    assert _birthday_touches(db_url) == []
    out = io.StringIO()
    assert main_simulate(["--days", "60", "--practice", str(ids["practice_id"])], out=out) == 0
    assert "birthday." not in out.getvalue()


def _plan_file(tmp_path, body: str):
    path = tmp_path / "plans.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_a_practice_can_move_its_birthday_text_and_add_a_vip_step(tmp_path):
    path = _plan_file(
        tmp_path,
        """
[[plans.birthday.steps]]
key = "birthday"
offset = "2d"
at = "09:30"
purpose = "birthday"
when = { vip = false }
text.en = "Happy belated birthday {first_name}! From {practice}. Reply STOP to opt out."

[[plans.facial.steps]]
key = "vip_extra"
offset = "20d"
purpose = "upsell"
when = { vip = true }
text.en = "Hi {first_name}, VIP pick for you at {practice}. Reply STOP to opt out."
""",
    )
    book = load(path)
    ((plan, step),) = book.steps_on_birthday(vip=False)
    assert (step.offset, step.at.isoformat()) == (timedelta(days=2), "09:30:00")
    assert "vip_extra" in {s.key for _p, s in book.steps_after_visit("facial", None, vip=True)}
    assert "vip_extra" not in {s.key for _p, s in book.steps_after_visit("facial", None, vip=False)}


def test_a_longer_horizon_plans_the_next_birthday_months_ahead(settings, clock, db_url):
    ids = seed_visit(db_url, marketing=True, start=clock.now() - timedelta(days=40))
    _patient(db_url, ids, birthday=date(1990, 6, 1))
    assert _plan(db_url) == []
    (touch,) = _plan(db_url, horizon=timedelta(days=365))
    assert touch.due_at.replace(tzinfo=UTC) == datetime(2027, 6, 1, 15, 0, tzinfo=UTC)  # 10:00 CDT


def test_a_new_visit_keeps_a_planned_birthday_text(settings, clock, db_url):
    ids = seed_visit(db_url, marketing=True, start=clock.now() - timedelta(days=40))
    with session_scope(db_url) as session:
        plan_appointment(session, ids["appointment_id"])
    _patient(db_url, ids, birthday=date(1990, 11, 28))
    (touch,) = _plan(db_url)
    newer = seed_visit(
        db_url,
        marketing=True,
        start=clock.now() - timedelta(hours=2),
        practice_id=ids["practice_id"],
        patient_id=ids["patient_id"],
    )
    with session_scope(db_url) as session:
        assert plan_appointment(session, newer["appointment_id"])
    assert touch_row(db_url, touch.id).status == "scheduled"
