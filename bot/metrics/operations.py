"""The operations view: occupancy per provider (booked minutes over working minutes) and the treatments that
bring the most profit (revenue minus product and supply cost)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.metrics.figures import CONFIRMED
from bot.metrics.periods import Period
from bot.metrics.sql import Where, at_location, covers, epoch
from store.models import Appointment, Location, Practice, Provider, Service
from store.money import CENT, cents_sum, from_cents

ZERO = Decimal("0.00")

DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Provider.working_hours keys, Monday first (date.weekday())."""

DEFINITIONS = {
    "occupancy": "Minutes of confirmed visits (booked or completed) starting in the period with this provider, "
    "divided by the provider's working minutes in the period (their weekly hours, day by day in their "
    "location's zone).",
    "treatments": "Confirmed visits (booked or completed) starting in the period, by treatment, most profitable "
    "first: how many, their revenue (the visits' prices), their cost (visits times the treatment's product and "
    "supply cost, set under Settings, Treatments and costs), profit (revenue minus cost, exact cents), margin, and "
    "profit per hour of chair time. A treatment without a recorded cost comes last, by revenue.",
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


def occupancy(db: Session, practice_id: int, period: Period, location_id: Where = None) -> list[dict]:
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
        if not covers(location_id, provider.location_id):
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


def treatments(db: Session, practice_id: int, period: Period, location_id: Where = None) -> list[dict]:
    """Confirmed visits starting in the period by treatment, most profitable first: revenue (the visits'
    prices) minus cost (visits times the treatment's product and supply cost), exact to the cent. Treatments
    without a recorded cost come after, by revenue, their profit unknown."""
    minutes = func.sum((epoch(Appointment.end_at) - epoch(Appointment.start_at)) / 60.0)
    rows = db.execute(
        select(  # type: ignore[call-overload]  # sqlmodel types select() up to four columns
            Service.name, Service.product_cost, Service.supply_cost, func.count(), cents_sum(Appointment.price), minutes
        )
        .select_from(Appointment)
        .join(Service, col(Service.id) == col(Appointment.service_id))
        .where(
            Appointment.practice_id == practice_id,
            col(Appointment.status).in_(CONFIRMED),
            Appointment.start_at >= period.start,
            Appointment.start_at < period.end,
            at_location(Appointment.location_id, location_id),
        )
        .group_by(Service.name, Service.product_cost, Service.supply_cost)
    ).all()
    merged: dict[str, dict] = {}
    for name, product, supplies, visits, cents, chair in rows:
        row = merged.setdefault(
            name, {"treatment": name, "visits": 0, "revenue": ZERO, "cost": ZERO, "costed": True, "chair": 0.0}
        )
        row["visits"] += visits
        row["revenue"] += from_cents(cents)
        row["chair"] += chair or 0
        if product is None and supplies is None:
            row["costed"] = False
        else:
            row["cost"] += visits * ((product or ZERO) + (supplies or ZERO))
    out = []
    for row in merged.values():
        chair_min = round(row.pop("chair"))
        costed = row.pop("costed")
        profit = row["revenue"] - row["cost"] if costed else None
        out.append(
            {
                **row,
                "cost": row["cost"] if costed else None,
                "profit": profit,
                "margin": float(round(100 * profit / row["revenue"], 1))
                if profit is not None and row["revenue"]
                else None,
                "chair_min": chair_min,
                "per_hour": (row["revenue"] * 60 / chair_min).quantize(CENT) if chair_min else None,
                "profit_per_hour": (profit * 60 / chair_min).quantize(CENT)
                if profit is not None and chair_min
                else None,
            }
        )
    return sorted(
        out,
        key=lambda row: (
            row["profit"] is None,
            -(row["profit"] if row["profit"] is not None else row["revenue"]),
            row["treatment"],
        ),
    )
