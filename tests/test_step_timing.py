"""A plan step's offset, time of day and conditions changed on the Plans page: checked by the plan loader's
own code (a bad value is refused with the loader's reason and changes nothing), previewed for a real patient,
stored per practice, used by the planner for what it plans next, and re-planning the step's touches not sent
yet; audited with before and after."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot import runtime
from bot.clock import to_local, to_utc
from bot.errors import PlanError
from bot.touches import step_timing
from bot.touches.planner import plan_appointment
from bot.touches.plans import plans_for
from store.db import session_scope
from store.models import AuditEvent, Patient, Practice, Touch
from tests import factories
from tests.helpers import csrf_token, seed_visit

REF = "neuromodulator.rebook"  # the plan file: 78 days after the visit, at 11:00


@pytest.fixture
def visit(app, clock, db_url):
    """Ana's Botox visit today (Monday 10:00 in Chicago), planned; a manager of her practice, signed in."""
    ids = seed_visit(db_url, start=clock.now() - timedelta(hours=1))
    with session_scope(db_url) as db:
        plan_appointment(db, ids["appointment_id"])
        factories.staff(db, ids["practice_id"], "manager", email="mo@glow.test")
    client = app.test_client()
    factories.sign_in(client, "mo@glow.test")
    return {**ids, "client": client}


def _post(client, **form):
    token = csrf_token(client.get(f"/settings/plans?step={REF}").get_data(as_text=True))
    return client.post(f"/settings/plans/{REF}/timing", data={"csrf_token": token, **form})


def _rebook(db_url, appointment_id: int) -> Touch:
    with session_scope(db_url) as db:
        return db.exec(select(Touch).where(Touch.step == "rebook", Touch.appointment_id == appointment_id)).one()


def test_the_loaders_own_checks_refuse_what_a_plan_file_would():
    step = plans_for(runtime.settings()).step("neuromodulator", "rebook")
    assert step is not None
    moved = step_timing.checked(step, {"offset": "85d", "at": "10:30", "when": {"vip": True, "area": ["Forehead"]}})
    assert (moved.offset, moved.at.strftime("%H:%M"), moved.vip, moved.area) == (
        timedelta(days=85),
        "10:30",
        True,
        ("forehead",),
    )
    assert moved.text == step.text and moved.purpose == step.purpose  # only timing and conditions change
    for timing, reason in [
        ({"offset": "-3d"}, "write it without a sign"),
        ({"offset": "900d"}, "within 730 days"),
        ({"offset": "85d", "at": "25:00"}, "bad time of day"),
        ({"offset": "85d", "when": {"category": ["filler"]}}, "when.category is for the upcoming plan"),
        ({"offset": "85d", "when": {"segment": ["gold"]}}, "when.segment must be a list of"),
    ]:
        with pytest.raises(PlanError, match=reason):
            step_timing.checked(step, timing)
    nudge = plans_for(runtime.settings()).step("deferred", "nudge")
    with pytest.raises(PlanError, match="change it in the plan file"):
        step_timing.checked(nudge, {"offset": "10d"})


def test_a_new_offset_is_previewed_then_saved_and_re_plans_the_touch_not_sent_yet(visit, db_url, clock):
    client = visit["client"]
    before = _rebook(db_url, visit["appointment_id"])
    local = to_local(before.due_at, "America/Chicago")
    assert (local.date().isoformat(), local.strftime("%H:%M")) == ("2027-02-09", "11:00")  # 78 days, 11:00

    preview = _post(client, action="preview", offset="85d", at="10:30", vip="").get_data(as_text=True)
    assert "85 days after the visit, at 10:30 local" in preview and "preview, not saved" in preview
    assert "Tue, Feb 16 at 10:30 AM" in preview  # Ana's visit + 85 days, shown before saving
    with session_scope(db_url) as db:
        assert db.exec(select(Practice)).one().step_timing == {}
    assert to_utc(_rebook(db_url, visit["appointment_id"]).due_at) == to_utc(before.due_at)

    refused = _post(client, action="save", offset="85 days", at="10:30")
    assert refused.status_code == 400
    assert "bad offset" in refused.get_data(as_text=True)
    assert to_utc(_rebook(db_url, visit["appointment_id"]).due_at) == to_utc(before.due_at)

    saved = _post(client, action="save", offset="85d", at="10:30")
    assert saved.status_code == 302
    moved = _rebook(db_url, visit["appointment_id"])
    local = to_local(moved.due_at, "America/Chicago")
    assert (local.date().isoformat(), local.strftime("%H:%M"), moved.status) == ("2027-02-16", "10:30", "scheduled")
    assert moved.reason == "plan_changed: re-timed"
    with session_scope(db_url) as db:
        practice = db.exec(select(Practice)).one()
        assert practice.step_timing == {REF: {"offset": "85d", "at": "10:30", "when": {}}}
        [event] = db.exec(select(AuditEvent).where(AuditEvent.action == "step_timing_changed")).all()
    assert event.detail["before"] == {REF: {"offset": "78d", "at": "11:00", "when": {}}}
    assert event.detail["after"][REF] == {"offset": "85d", "at": "10:30", "when": {}}
    assert event.detail["after"]["replanned"] == {"moved": 1, "stopped": 0, "unchanged": 0}

    # A visit planned after the change follows it.
    again = seed_visit(
        db_url,
        start=clock.now() + timedelta(days=1),
        practice_id=visit["practice_id"],
        patient_id=None,
        phone="+15125550177",
    )
    with session_scope(db_url) as db:
        created = plan_appointment(db, again["appointment_id"], now=clock.now() + timedelta(days=1, hours=1))
    [rebook] = [t for t in created if t.step == "rebook"]
    local = to_local(rebook.due_at, "America/Chicago")
    assert (local.date().isoformat(), local.strftime("%H:%M")) == ("2027-02-17", "10:30")

    _post(client, action="reset")
    with session_scope(db_url) as db:
        assert db.exec(select(Practice)).one().step_timing == {}
    local = to_local(_rebook(db_url, visit["appointment_id"]).due_at, "America/Chicago")
    assert (local.date().isoformat(), local.strftime("%H:%M")) == ("2027-02-09", "11:00")


def test_a_condition_that_leaves_a_patient_out_stops_their_touch_and_a_sent_one_is_left_alone(visit, db_url):
    client = visit["client"]
    with session_scope(db_url) as db:
        checkin = db.exec(select(Touch).where(Touch.step == "checkin")).one()
        checkin.status = "sent"  # already gone: a plan change does not touch it
        db.add(checkin)
    answer = _post(client, action="save", offset="78d", at="11:00", vip="yes")
    assert answer.status_code == 302
    stopped = _rebook(db_url, visit["appointment_id"])
    assert (stopped.status, stopped.reason) == ("suppressed", "plan_changed: its conditions no longer hold")
    token = csrf_token(client.get("/settings/plans?step=neuromodulator.checkin").get_data(as_text=True))
    client.post(
        "/settings/plans/neuromodulator.checkin/timing",
        data={"csrf_token": token, "action": "save", "offset": "2d", "at": "10:00"},
    )
    with session_scope(db_url) as db:
        checkin = db.exec(select(Touch).where(Touch.step == "checkin")).one()
        assert checkin.status == "sent" and checkin.reason is None
        ana = db.exec(select(Patient)).one()
        ana.vip = True
        db.add(ana)
    page = client.get(f"/settings/plans?step={REF}").get_data(as_text=True)
    assert (
        "78 days after the visit, at 11:00 local; VIPs only" in page
        and "(in 78 days)" in page
        and "the practice's timing" in page
    )


def test_another_practice_keeps_the_plan_files_timing(visit, db_url, clock):
    _post(visit["client"], action="save", offset="85d", at="10:30")
    other = seed_visit(db_url, start=clock.now() - timedelta(hours=1), phone="+15125550188")
    with session_scope(db_url) as db:
        created = plan_appointment(db, other["appointment_id"])
    [rebook] = [t for t in created if t.step == "rebook"]
    local = to_local(rebook.due_at, "America/Chicago")
    assert (local.date().isoformat(), local.strftime("%H:%M")) == ("2027-02-09", "11:00")
