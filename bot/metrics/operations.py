"""The operations view: occupancy per provider (booked minutes over working minutes) and the treatments that
bring the most revenue per hour of chair time."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.metrics.figures import CONFIRMED
from bot.metrics.periods import Period
from bot.metrics.sql import at_location, epoch
from store.models import Appointment, Location, Practice, Provider, Service
from store.money import cents_sum, from_cents

DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Provider.working_hours keys, Monday first (date.weekday())."""

DEFINITIONS = {
    "occupancy": "Minutes of confirmed visits (booked or completed) starting in the period with this provider, "
    "divided by the provider's working minutes in the period (their weekly hours, day by day in their "
    "location's zone).",
    "treatments": "Confirmed visits (booked or completed) starting in the period, by treatment: how many, their "
    "revenue (exact cents), the chair time they took, and the revenue per hour of chair time. Costs are not "
    "recorded, so revenue per hour stands in for profit.",
}
"""What each figure of the operations view means."""


def working_minutes(hours: dict, period: Period, tz: str) -> int:
    """A provider's working minutes between the period's start and end, from their weekly hours."""
    zone = ZoneInfo(tz)
    total = 0
    day = period.start.astimezone(zone).date()
    last = period.end.astimezone(zone).date()
    while day <= last:
        span = hours.get(DAY_KEYS[day.weekday()])
        if isinstance(span, (list, tuple)) and len(span) == 2:
            try:
                opens = datetime.combine(day, datetime.strptime(span[0], "%H:%M").time(), tzinfo=zone)
                closes = datetime.combine(day, datetime.strptime(span[1], "%H:%M").time(), tzinfo=zone)
            except (TypeError, ValueError):  # hours written wrongly: that day counts as not working
                opens = closes = datetime.combine(day, datetime.min.time(), tzinfo=zone)
            start, end = max(opens, period.start), min(closes, period.end)
            total += max(0, int((end - start).total_seconds() // 60))
        day += timedelta(days=1)
    return total


def occupancy(db: Session, practice_id: int, period: Period, location_id: int | None = None) -> list[dict]:
    practice = db.get(Practice, practice_id)
    assert practice is not None
    booked = {
        provider_id: minutes
        for provider_id, minutes in db.execute(
            select(Appointment.provider_id, func.sum((epoch(Appointment.end_at) - epoch(Appointment.start_at)) / 60.0))
            .where(
                Appointment.practice_id == practice_id,
                col(Appointment.status).in_(CONFIRMED),
                Appointment.start_at >= period.start,
                Appointment.start_at < period.end,
            )
            .group_by(col(Appointment.provider_id))
        )
    }
    zones = {loc.id: loc.timezone for loc in db.exec(select(Location).where(Location.practice_id == practice_id))}
    rows = []
    providers = db.exec(
        select(Provider).where(Provider.practice_id == practice_id, Provider.active).order_by(Provider.name)
    )
    for provider in providers:
        if location_id is not None and provider.location_id != location_id:
            continue
        tz = zones.get(provider.location_id or -1, practice.timezone)
        working = working_minutes(provider.working_hours or {}, period, tz)
        minutes = round(booked.get(provider.id) or 0)
        rows.append(
            {
                "provider": provider.name,
                "booked_min": minutes,
                "working_min": working,
                "rate": round(100 * minutes / working, 1) if working else None,
            }
        )
    return rows


def treatments(db: Session, practice_id: int, period: Period, location_id: int | None = None) -> list[dict]:
    minutes = func.sum((epoch(Appointment.end_at) - epoch(Appointment.start_at)) / 60.0)
    rows = db.execute(
        select(Service.name, func.count(), cents_sum(Appointment.price), minutes)
        .select_from(Appointment)
        .join(Service, col(Service.id) == col(Appointment.service_id))
        .where(
            Appointment.practice_id == practice_id,
            col(Appointment.status).in_(CONFIRMED),
            Appointment.start_at >= period.start,
            Appointment.start_at < period.end,
            at_location(Appointment.location_id, location_id),
        )
        .group_by(Service.name)
    ).all()
    out = []
    for name, visits, cents, chair in rows:
        revenue, chair_min = from_cents(cents), round(chair or 0)
        per_hour = (revenue * 60 / chair_min).quantize(Decimal("0.01")) if chair_min else None
        out.append(
            {"treatment": name, "visits": visits, "revenue": revenue, "chair_min": chair_min, "per_hour": per_hour}
        )
    return sorted(out, key=lambda row: (-row["revenue"], row["treatment"]))
