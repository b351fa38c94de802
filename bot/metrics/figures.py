"""The Numbers page's figures for one practice, period and (optionally) location; each is one SQL query and
each carries its definition (DEFINITIONS), which the page shows on hover."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Integer, and_, case, cast, distinct, exists, func, select, true
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from bot.metrics.periods import Period
from bot.metrics.sql import DAY, Where, at_location, epoch, percentile, ranked, visited
from bot.vocabulary import ESCALATION_URGENCIES, AppointmentStatus, Direction, MessageKind, TouchStatus
from store.models import Appointment, AuditEvent, Escalation, Message, Referral, Touch
from store.money import cents_sum, from_cents

CONFIRMED = (AppointmentStatus.BOOKED, AppointmentStatus.COMPLETED)
"""Visits that count as bookings: a time requested by text counts only once the front desk confirms it."""
NOT_SENT = ("draft", "discarded", "withheld")
"""Outbound rows that never left: drafts waiting or discarded, texts the send gate withheld."""
FAILED = ("failed", "undelivered")
"""Delivery statuses Twilio reports for a text that did not reach the phone."""
REPLY_WINDOW_DAYS = 3
"""A text from the patient within this many days after a touch counts as a reply to it."""
REBOOK_WINDOW_DAYS = 60
"""A visit counts as rebooked when another confirmed visit starts within this many days after it."""

DEFINITIONS = {
    "reply_rate": "Touches sent in the period (sent_at) whose patient texted back within 3 days after the touch, "
    "divided by all touches sent in the period.",
    "rebooking": "Visits completed in the period whose patient has another confirmed visit (booked or completed) "
    "starting within 60 days after it, divided by all visits completed in the period.",
    "first_time_return": "Patients whose first completed visit ever falls in the period and who have a later "
    "confirmed visit (booked or completed, at any date since), divided by all such first-time patients.",
    "booked_by_text": "Visits a patient picked by text (source bot) created in the period and confirmed by the "
    "front desk (booked or completed); requests still waiting or declined are not bookings. Revenue is the sum "
    "of their prices, in exact cents.",
    "opt_outs": "Opt-out events in the period (each STOP or opt-out in words counts once, even if the patient "
    "texted START later), divided by the patients sent at least one text in the period. Erasures are counted "
    "apart and are not opt-outs.",
    "escalations": "Escalations opened in the period by urgency; time to acknowledge runs from the escalation "
    "opening to the first acknowledgement; median and p90 by nearest rank over the acknowledged ones.",
    "referrals": "Referral codes handed out in the period, and how many of them have led to a booking by a new "
    "patient (booked or rewarded), whenever that booking came.",
    "delivery_failures": "Texts that left in the period (touches, replies, staff texts, pages) which Twilio "
    "reported as failed or undelivered, divided by all texts that left.",
    "texts": "Texts that left (drafts, discarded and withheld ones never left) and texts received in the period.",
}
"""What each figure means, in the words its tooltip uses."""


def _within(column, period: Period):
    return and_(column >= period.start, column < period.end)


def _ratio(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def reply_rate(db: Session, practice_id: int, period: Period, location_id: Where = None) -> dict:
    reply = aliased(Message)
    answered = exists(
        select(col(reply.id)).where(
            col(reply.patient_id) == col(Touch.patient_id),
            col(reply.direction) == Direction.IN,
            epoch(col(reply.created_at)) > epoch(col(Touch.sent_at)),
            epoch(col(reply.created_at)) <= epoch(col(Touch.sent_at)) + REPLY_WINDOW_DAYS * DAY,
        )
    )
    sent, replied = db.execute(
        select(func.count(), func.coalesce(func.sum(case((answered, 1), else_=0)), 0)).where(
            col(Touch.practice_id) == practice_id,
            col(Touch.status) == TouchStatus.SENT,
            _within(col(Touch.sent_at), period),
            visited(col(Touch.patient_id), location_id),
        )
    ).one()
    return {"touches_sent": sent, "replied": replied, "rate": _ratio(replied, sent)}


def rebooking(db: Session, practice_id: int, period: Period, location_id: Where = None) -> dict:
    later = aliased(Appointment)
    rebooked = exists(
        select(col(later.id)).where(
            col(later.patient_id) == col(Appointment.patient_id),
            col(later.id) != col(Appointment.id),
            col(later.status).in_(CONFIRMED),
            epoch(col(later.start_at)) > epoch(col(Appointment.start_at)),
            epoch(col(later.start_at)) <= epoch(col(Appointment.start_at)) + REBOOK_WINDOW_DAYS * DAY,
        )
    )
    visits, kept = db.execute(
        select(func.count(), func.coalesce(func.sum(case((rebooked, 1), else_=0)), 0)).where(
            col(Appointment.practice_id) == practice_id,
            col(Appointment.status) == AppointmentStatus.COMPLETED,
            _within(col(Appointment.start_at), period),
            at_location(col(Appointment.location_id), location_id),
        )
    ).one()
    return {"visits": visits, "rebooked": kept, "rate": _ratio(kept, visits)}


def first_time_return(db: Session, practice_id: int, period: Period, location_id: Where = None) -> dict:
    firsts = (
        select(col(Appointment.patient_id).label("patient_id"), func.min(col(Appointment.start_at)).label("first_at"))
        .where(col(Appointment.practice_id) == practice_id, col(Appointment.status) == AppointmentStatus.COMPLETED)
        .group_by(col(Appointment.patient_id))
        .subquery()
    )
    later = aliased(Appointment)
    came_back = exists(
        select(col(later.id)).where(
            col(later.patient_id) == firsts.c.patient_id,
            col(later.status).in_(CONFIRMED),
            epoch(col(later.start_at)) > epoch(firsts.c.first_at),
        )
    )
    patients, returned = db.execute(
        select(func.count(), func.coalesce(func.sum(case((came_back, 1), else_=0)), 0)).where(
            _within(firsts.c.first_at, period), visited(firsts.c.patient_id, location_id)
        )
    ).one()
    return {"patients": patients, "returned": returned, "rate": _ratio(returned, patients)}


def booked_by_text(db: Session, practice_id: int, period: Period, location_id: Where = None) -> dict:
    confirmed = col(Appointment.status).in_(CONFIRMED)
    count, cents, waiting = db.execute(
        select(
            func.coalesce(func.sum(case((confirmed, 1), else_=0)), 0),
            func.coalesce(
                func.sum(case((confirmed, cast(func.round(col(Appointment.price) * 100), Integer)), else_=0)), 0
            ),
            func.coalesce(func.sum(case((col(Appointment.status) == AppointmentStatus.REQUESTED, 1), else_=0)), 0),
        ).where(
            col(Appointment.practice_id) == practice_id,
            col(Appointment.source) == "bot",
            _within(col(Appointment.created_at), period),
            at_location(col(Appointment.location_id), location_id),
        )
    ).one()
    return {"bookings": count, "revenue": from_cents(cents), "requests_waiting": waiting}


def opt_outs(db: Session, practice_id: int, period: Period, location_id: Where = None) -> dict:
    def events(action: str) -> int:
        return db.execute(
            select(func.count()).where(
                col(AuditEvent.practice_id) == practice_id,
                col(AuditEvent.action) == action,
                _within(col(AuditEvent.created_at), period),
                visited(col(AuditEvent.subject_id), location_id) if action == "opt_out" else true(),
            )
        ).scalar_one()

    texted = db.execute(
        select(func.count(distinct(col(Message.patient_id)))).where(
            col(Message.practice_id) == practice_id,
            col(Message.direction) == Direction.OUT,
            col(Message.kind).in_((MessageKind.TOUCH, MessageKind.REPLY, MessageKind.STAFF)),
            col(Message.status).not_in(NOT_SENT) | col(Message.status).is_(None),
            _within(col(Message.created_at), period),
            visited(col(Message.patient_id), location_id),
        )
    ).scalar_one()
    count = events("opt_out")
    # Erasure deletes the visits that tie a patient to a location: erasures are counted for the practice only.
    return {
        "events": count,
        "patients_texted": texted,
        "rate": _ratio(count, texted),
        "erasures": events("patient_erased"),
    }


def escalations(db: Session, practice_id: int, period: Period, location_id: Where = None) -> list[dict]:
    scope = and_(
        col(Escalation.practice_id) == practice_id,
        _within(col(Escalation.created_at), period),
        visited(col(Escalation.patient_id), location_id),
    )
    counts = {
        urgency: n
        for urgency, n in db.execute(
            select(col(Escalation.urgency), func.count()).where(scope).group_by(col(Escalation.urgency))
        )
    }
    wait = (epoch(col(Escalation.acknowledged_at)) - epoch(col(Escalation.created_at))) / 60.0
    rank, size = ranked(wait, col(Escalation.urgency))
    waits = (
        select(col(Escalation.urgency).label("urgency"), wait.label("wait"), rank, size)
        .where(scope, col(Escalation.acknowledged_at).is_not(None))
        .subquery()
    )
    stats = {
        urgency: (acked, p50, p90)
        for urgency, acked, p50, p90 in db.execute(
            select(
                waits.c.urgency,
                func.count(),
                percentile(waits.c.wait, waits.c.rank, waits.c.size, 0.5),
                percentile(waits.c.wait, waits.c.rank, waits.c.size, 0.9),
            ).group_by(waits.c.urgency)
        ).all()
    }
    rows = []
    for urgency in reversed(ESCALATION_URGENCIES):
        acked, p50, p90 = stats.get(urgency, (0, None, None))
        rows.append(
            {
                "urgency": str(urgency),
                "count": counts.get(urgency, 0),
                "acknowledged": acked,
                "median_ack_min": round(p50, 1) if p50 is not None else None,
                "p90_ack_min": round(p90, 1) if p90 is not None else None,
            }
        )
    return rows


def referrals(db: Session, practice_id: int, period: Period, location_id: Where = None) -> dict:
    converted = col(Referral.status).in_(("booked", "rewarded"))
    issued, booked = db.execute(
        select(func.count(), func.coalesce(func.sum(case((converted, 1), else_=0)), 0)).where(
            col(Referral.practice_id) == practice_id,
            _within(col(Referral.created_at), period),
            visited(col(Referral.referrer_id), location_id),
        )
    ).one()
    return {"issued": issued, "booked": booked, "rate": _ratio(booked, issued)}


def texts(db: Session, practice_id: int, period: Period, location_id: Where = None) -> dict:
    left = and_(
        col(Message.direction) == Direction.OUT, col(Message.status).not_in(NOT_SENT) | col(Message.status).is_(None)
    )
    out, failed, inbound = db.execute(
        select(
            func.coalesce(func.sum(case((left, 1), else_=0)), 0),
            func.coalesce(func.sum(case((and_(left, col(Message.status).in_(FAILED)), 1), else_=0)), 0),
            func.coalesce(func.sum(case((col(Message.direction) == Direction.IN, 1), else_=0)), 0),
        ).where(
            col(Message.practice_id) == practice_id,
            _within(col(Message.created_at), period),
            visited(col(Message.patient_id), location_id),
        )
    ).one()
    codes = db.execute(
        select(col(Message.error_code), func.count())
        .where(
            col(Message.practice_id) == practice_id,
            col(Message.direction) == Direction.OUT,
            col(Message.status).in_(FAILED),
            _within(col(Message.created_at), period),
            visited(col(Message.patient_id), location_id),
        )
        .group_by(col(Message.error_code))
        .order_by(func.count().desc())
    ).all()
    return {
        "out": out,
        "in": inbound,
        "failed": failed,
        "failure_rate": _ratio(failed, out),
        "failure_codes": [{"code": code, "count": n} for code, n in codes],
    }


def touch_outcomes(db: Session, practice_id: int, period: Period, location_id: Where = None) -> list[dict]:
    """Touches that reached an outcome in the period, by status and reason, sent first."""
    rows = db.execute(
        select(col(Touch.status), col(Touch.reason), func.count())
        .where(
            col(Touch.practice_id) == practice_id,
            _within(col(Touch.updated_at), period),
            col(Touch.status).in_(("sent", "skipped", "suppressed", "failed")),
            visited(col(Touch.patient_id), location_id),
        )
        .group_by(col(Touch.status), col(Touch.reason))
    ).all()
    return sorted(
        ({"status": status, "reason": (reason or "").replace("_", " "), "count": n} for status, reason, n in rows),
        key=lambda row: (row["status"] != "sent", -row["count"]),
    )


def all_figures(db: Session, practice_id: int, period: Period, location_id: Where = None) -> dict:
    """Every figure of the Numbers page."""
    return {
        name: figure(db, practice_id, period, location_id)
        for name, figure in (
            ("reply_rate", reply_rate),
            ("rebooking", rebooking),
            ("first_time_return", first_time_return),
            ("booked_by_text", booked_by_text),
            ("opt_outs", opt_outs),
            ("escalations", escalations),
            ("referrals", referrals),
            ("texts", texts),
            ("touch_outcomes", touch_outcomes),
        )
    }


def revenue(db: Session, practice_id: int, start: datetime, end: datetime, location_id: Where = None) -> Decimal:
    """Confirmed visits' prices between two moments (by visit start), exact."""
    cents = db.execute(
        select(cents_sum(col(Appointment.price))).where(
            col(Appointment.practice_id) == practice_id,
            col(Appointment.status).in_(CONFIRMED),
            col(Appointment.start_at) >= start,
            col(Appointment.start_at) < end,
            at_location(col(Appointment.location_id), location_id),
        )
    ).scalar_one()
    return from_cents(cents)
