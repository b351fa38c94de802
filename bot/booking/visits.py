"""A patient's upcoming visit, and moving or cancelling it (by text, or when the front desk settles a move).

Moving a visit keeps its row and changes its time and provider, so the planner moves its reminders
(the upcoming plan's pending steps are suppressed as "rescheduled" and planned again for the new time).
A move asked for in request mode is a *requested* visit that `replaces` the booked one: the booked time
stays the patient's until the front desk confirms, then it is freed ("moved") and its reminders dropped.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.clock import to_utc
from bot.touches.planner import plan_appointment
from bot.touches.plans import MISSED
from store.models import Appointment, Service, Touch
from store.queries import PENDING_TOUCH_STATUSES

UPCOMING_STATUSES = ("booked", "requested")
"""Statuses of a visit still ahead that a patient can move or cancel by text."""
MOVED = "moved"
"""The status of a booked visit whose move to another time the front desk confirmed."""
LATE_CANCEL = timedelta(hours=24)
"""A cancel this close to the visit is late: the practice's cancellation policy is quoted."""


def upcoming_visit(session: Session, patient_id: int, now: datetime) -> tuple[Appointment, Service] | None:
    """The patient's next visit still ahead (booked, or requested by text), and its service."""
    return session.exec(
        select(Appointment, Service)
        .join(Service, col(Service.id) == Appointment.service_id)
        .where(
            Appointment.patient_id == patient_id,
            col(Appointment.status).in_(UPCOMING_STATUSES),
            Appointment.start_at > now,
        )
        .order_by(col(Appointment.start_at))
    ).first()


def is_late(appointment: Appointment, now: datetime, late: timedelta = LATE_CANCEL) -> bool:
    """Whether cancelling now falls inside the practice's notice window."""
    return to_utc(appointment.start_at) - to_utc(now) < late


def move(session: Session, appointment: Appointment, provider_id: int, start: datetime, now: datetime) -> None:
    """Put the visit at a new time (and provider); its reminders follow."""
    service = session.get_one(Service, appointment.service_id)
    appointment.provider_id = provider_id
    appointment.start_at = to_utc(start)
    appointment.end_at = to_utc(start) + timedelta(minutes=service.duration_min or 30)
    appointment.updated_at = now
    session.add(appointment)
    session.flush()
    plan_appointment(session, appointment.id, now)


def cancel(session: Session, appointment: Appointment, now: datetime, reason: str) -> None:
    """Cancel the visit: its time is free and its reminders are dropped. The patient asked for it, so no
    "sorry we missed you" follows (the missed plan is for cancellations the practice learns of)."""
    appointment.status, appointment.updated_at = "cancelled", now
    session.add(appointment)
    session.flush()
    plan_appointment(session, appointment.id, now)
    _drop_touches(session, appointment.id, reason, now, only_plan=MISSED)


def settle_move(session: Session, request: Appointment, now: datetime) -> None:
    """The front desk confirmed a requested move: the visit it replaces frees its time and drops its texts."""
    if request.replaces_id is None:
        return
    old = session.get(Appointment, request.replaces_id)
    if old is None or old.status not in UPCOMING_STATUSES:
        return
    old.status, old.updated_at = MOVED, now
    session.add(old)
    _drop_touches(session, old.id, "rescheduled", now)


def _drop_touches(session: Session, appointment_id: int, reason: str, now: datetime, only_plan: str | None = None):
    statement = update(Touch).where(
        col(Touch.appointment_id) == appointment_id, col(Touch.status).in_(PENDING_TOUCH_STATUSES)
    )
    if only_plan is not None:
        statement = statement.where(col(Touch.plan) == only_plan)
    session.exec(statement.values(status="suppressed", reason=reason, updated_at=now))
