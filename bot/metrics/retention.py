"""The monthly retention report's figures: revenue by channel, the most requested treatments, new against
returning patients, and the retention rate; one SQL query each."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, case, distinct, exists, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from bot.metrics.figures import CONFIRMED
from bot.metrics.periods import Period, month
from bot.metrics.sql import Where, at_location
from bot.vocabulary import AppointmentStatus
from store.models import Appointment, Practice, Service
from store.money import cents_sum, from_cents

CHANNELS = {
    "bot": "booked by text",
    "staff": "booked by staff",
    "api": "practice system",
    "csv": "CSV import",
    "seed": "practice system (demo)",
}
"""Where a visit was booked (Appointment.source), in the report's words; anything else is "other"."""
TOP_TREATMENTS = 5
"""How many treatments the report lists."""
LOOKBACK_DAYS = 90
"""Retention looks at the patients seen in this many days before the period."""

DEFINITIONS = {
    "revenue_by_channel": "Prices of confirmed visits (booked or completed) starting in the month, by where the "
    "visit was booked: by text (a time the patient picked, confirmed by the front desk), by staff, or from the "
    "practice system. Exact cents.",
    "treatments": "Visits asked for in the month (created in it, whatever became of them, requests by text "
    "included), by treatment; the most asked first.",
    "new_returning": "Patients with a completed visit in the month: new when it was their first completed visit "
    "ever, returning otherwise.",
    "retention": "Of the patients with a completed visit in the 90 days before the month, the share with a "
    "confirmed visit (booked or completed) starting in the month or after it.",
    "revenue": "Prices of confirmed visits (booked or completed) starting in the period. Exact cents.",
}
"""What each figure of the report means."""


def revenue_by_channel(db: Session, practice_id: int, period: Period, location_id: Where = None) -> list[dict]:
    rows = db.execute(
        select(col(Appointment.source), func.count(), cents_sum(col(Appointment.price)))
        .where(
            col(Appointment.practice_id) == practice_id,
            col(Appointment.status).in_(CONFIRMED),
            col(Appointment.start_at) >= period.start,
            col(Appointment.start_at) < period.end,
            at_location(col(Appointment.location_id), location_id),
        )
        .group_by(col(Appointment.source))
    ).all()
    out = [
        {"channel": CHANNELS.get(source, "other"), "source": source, "visits": n, "revenue": from_cents(cents)}
        for source, n, cents in rows
    ]
    return sorted(out, key=lambda row: -row["revenue"])


def treatments(db: Session, practice_id: int, period: Period, location_id: Where = None) -> list[dict]:
    rows = db.execute(
        select(col(Service.name), func.count())
        .select_from(Appointment)
        .join(Service, col(Service.id) == col(Appointment.service_id))
        .where(
            col(Appointment.practice_id) == practice_id,
            col(Appointment.created_at) >= period.start,
            col(Appointment.created_at) < period.end,
            at_location(col(Appointment.location_id), location_id),
        )
        .group_by(col(Service.name))
        .order_by(func.count().desc(), col(Service.name))
        .limit(TOP_TREATMENTS)
    ).all()
    return [{"treatment": name, "requests": n} for name, n in rows]


def new_returning(db: Session, practice_id: int, period: Period, location_id: Where = None) -> dict:
    seen = (
        select(col(Appointment.patient_id).label("patient_id"))
        .distinct()
        .where(
            col(Appointment.practice_id) == practice_id,
            col(Appointment.status) == AppointmentStatus.COMPLETED,
            col(Appointment.start_at) >= period.start,
            col(Appointment.start_at) < period.end,
            at_location(col(Appointment.location_id), location_id),
        )
        .subquery()
    )
    first = (
        select(col(Appointment.patient_id).label("patient_id"), func.min(col(Appointment.start_at)).label("first_at"))
        .where(col(Appointment.practice_id) == practice_id, col(Appointment.status) == AppointmentStatus.COMPLETED)
        .group_by(col(Appointment.patient_id))
        .subquery()
    )
    # New: the first completed visit ever (at any location) falls in the period; a new patient who came twice
    # this month is still new.
    patients, new = db.execute(
        select(func.count(), func.coalesce(func.sum(case((first.c.first_at >= period.start, 1), else_=0)), 0))
        .select_from(seen)
        .join(first, first.c.patient_id == seen.c.patient_id)
    ).one()
    return {"patients": patients, "new": new, "returning": patients - new}


def retention(db: Session, practice_id: int, period: Period, location_id: Where = None) -> dict:
    since = period.start - timedelta(days=LOOKBACK_DAYS)
    later = aliased(Appointment)
    back = exists(
        select(col(later.id)).where(
            col(later.patient_id) == col(Appointment.patient_id),
            col(later.status).in_(CONFIRMED),
            col(later.start_at) >= period.start,
        )
    )
    seen, kept = db.execute(
        select(
            func.count(distinct(col(Appointment.patient_id))),
            func.count(distinct(case((back, col(Appointment.patient_id))))),
        ).where(
            col(Appointment.practice_id) == practice_id,
            col(Appointment.status) == AppointmentStatus.COMPLETED,
            and_(col(Appointment.start_at) >= since, col(Appointment.start_at) < period.start),
            at_location(col(Appointment.location_id), location_id),
        )
    ).one()
    return {"patients": seen, "retained": kept, "rate": round(100 * kept / seen, 1) if seen else None}


def monthly_report(db: Session, practice_id: int, which: str, location_id: Where = None) -> dict:
    """Everything the monthly report shows for one month ("2026-11"), in the practice's zone."""
    practice = db.get(Practice, practice_id)
    assert practice is not None
    period = month(which, practice.timezone)
    channels = revenue_by_channel(db, practice_id, period, location_id)
    return {
        "practice": practice.name,
        "month": period.month,
        "label": period.label,
        "period": period,
        "revenue_by_channel": channels,
        "revenue": sum((row["revenue"] for row in channels), start=from_cents(0)),
        "treatments": treatments(db, practice_id, period, location_id),
        "new_returning": new_returning(db, practice_id, period, location_id),
        "retention": retention(db, practice_id, period, location_id),
    }
