"""Preview and simulate print what the plans would do and change nothing."""

from __future__ import annotations

import io

from sqlmodel import select

from bot.touches.planner import plan_appointment
from bot.touches.preview import main_preview, main_simulate
from store.db import session_scope
from store.models import Message, Touch
from tests.helpers import seed_visit


def _snapshot(db_url):
    with session_scope(db_url) as session:
        return [
            (t.id, t.status, t.due_at, t.deferrals, t.reason) for t in session.exec(select(Touch).order_by(Touch.id))
        ]


def test_preview_shows_sends_and_skips_without_changing_anything(settings, clock, db_url):
    ids = seed_visit(db_url, start=clock.now())
    with session_scope(db_url) as session:
        plan_appointment(session, ids["appointment_id"])
    before = _snapshot(db_url)
    out = io.StringIO()
    assert main_preview(["--patient", str(ids["patient_id"])], out=out) == 0
    text = out.getvalue()
    assert "neuromodulator.checkin" in text and "WOULD SEND" in text
    assert "Hi Ana, it's Maya at Glow Med Spa" in text
    assert "everyone.referral" in text and "no_marketing_consent" in text
    assert "segment(s), GSM-7" in text
    assert "nothing was sent" in text
    assert _snapshot(db_url) == before
    with session_scope(db_url) as session:
        assert session.exec(select(Message)).all() == []


def test_simulate_defers_night_touches_to_the_morning(settings, clock, db_url):
    ids = seed_visit(db_url, start=clock.now().replace(hour=23))  # visit ends 17:30 Chicago; +3h is 20:30
    with session_scope(db_url) as session:
        plan_appointment(session, ids["appointment_id"])
    out = io.StringIO()
    assert main_simulate(["--days", "180", "--practice", str(ids["practice_id"])], out=out) == 0
    text = out.getvalue()
    assert "everyone.thanks" in text
    assert "DEFERRED: quiet_hours: deferred from 2026-11-23 20:30 CST to 2026-11-24 09:00 CST" in text
    before = _snapshot(db_url)
    assert all(status == "scheduled" for _id, status, *_ in before)
