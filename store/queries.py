"""Queries several modules share."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.vocabulary import PENDING_TOUCH_STATUSES, AppointmentStatus, MessageKind, TouchStatus
from store.models import Appointment, Location, Message, Patient, Service, Touch


def practice_for_number(session: Session, sms_number: str) -> int | None:
    """The practice that owns one of its locations' SMS numbers."""
    return session.exec(select(Location.practice_id).where(col(Location.sms_number) == sms_number)).first()


def find_patient(session: Session, phone: str, practice_id: int | None = None) -> Patient | None:
    """The patient with this number (at this practice when known)."""
    query = select(Patient).where(col(Patient.phone) == phone)
    if practice_id is not None:
        query = query.where(col(Patient.practice_id) == practice_id)
    return session.exec(query.order_by(col(Patient.id).desc())).first()


def patients_for_inbound(session: Session, from_number: str, to_number: str) -> list[Patient]:
    """Patients an inbound text speaks for: at the practice owning `to_number`, else every practice."""
    practice_id = practice_for_number(session, to_number)
    query = select(Patient).where(col(Patient.phone) == from_number)
    if practice_id is not None:
        query = query.where(col(Patient.practice_id) == practice_id)
    return list(session.exec(query))


def cancel_pending_touches(
    session: Session, patient_id: int, reason: str, purposes: tuple[str, ...] | None = None
) -> int:
    """Suppress a patient's touches that have not gone out; returns how many."""
    statement = (
        update(Touch)
        .where(col(Touch.patient_id) == patient_id, col(Touch.status).in_(PENDING_TOUCH_STATUSES))
        .values(status=TouchStatus.SUPPRESSED, reason=reason)
    )
    if purposes is not None:
        statement = statement.where(col(Touch.purpose).in_(purposes))
    return session.exec(statement).rowcount


def last_visit(session: Session, patient_id: int) -> tuple[Appointment, Service] | None:
    """The patient's most recent completed appointment and its service."""
    return session.exec(
        select(Appointment, Service)
        .join(Service, col(Service.id) == Appointment.service_id)
        .where(col(Appointment.patient_id) == patient_id, col(Appointment.status) == AppointmentStatus.COMPLETED)
        .order_by(col(Appointment.start_at).desc())
    ).first()


def recent_messages(session: Session, patient_id: int, limit: int = 6, before_id: int | None = None) -> list[Message]:
    """The last few texts of a patient's thread, oldest first."""
    query = select(Message).where(col(Message.patient_id) == patient_id, col(Message.kind) != MessageKind.PAGE)
    if before_id is not None:
        query = query.where(col(Message.id) < before_id)
    rows = list(session.exec(query.order_by(col(Message.id).desc()).limit(limit)))
    return rows[::-1]
