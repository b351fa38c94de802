"""The demo's full calendar (bot/demo/calendar.py): the practice system's other clients fill every provider's
working hours, so Operations reads a busy med spa's occupancy, while Aftercare plans and sends them nothing."""

from __future__ import annotations

from sqlmodel import col, select

from bot.metrics import operations
from bot.metrics.periods import last_days
from store.db import session_scope
from store.models import Appointment, Message, Patient, Touch


def test_every_provider_reads_a_busy_calendar_over_the_last_30_and_90_days(demo_practice, db_url, clock):
    with session_scope(db_url) as db:
        for days in (30, 90):
            rows = operations.occupancy(
                db, demo_practice["practice_id"], last_days(days, clock.now(), "America/Chicago")
            )
            assert len(rows) == 5
            for row in rows:
                assert row["rate"] is not None and 50 <= row["rate"] <= 90, (days, row)


def test_the_calendar_clients_get_no_texts_and_no_double_booking(demo_practice, db_url):
    with session_scope(db_url) as db:
        clients = db.exec(select(Patient).where(col(Patient.external_id).like("CAL-%"))).all()
        ids = {c.id for c in clients}
        assert len(clients) >= 300
        assert not any(c.care_sms or c.marketing_sms for c in clients)  # no consent: nothing is ever sent
        assert db.exec(select(Touch).where(col(Touch.patient_id).in_(ids))).all() == []
        assert db.exec(select(Message).where(col(Message.patient_id).in_(ids))).all() == []
        visits = db.exec(
            select(Appointment)
            .where(col(Appointment.status).in_(("booked", "completed")))
            .order_by(col(Appointment.provider_id), col(Appointment.start_at))
        ).all()
    by_provider: dict = {}
    for visit in visits:
        by_provider.setdefault(visit.provider_id, []).append(visit)
    for booked in by_provider.values():
        for before, after in zip(booked, booked[1:], strict=False):
            assert before.end_at <= after.start_at, (before.id, after.id)  # one patient in the chair at a time
    assert any(v.source == "api" and v.patient_id in ids for v in visits)
