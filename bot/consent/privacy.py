"""A patient's right to their data: export everything we hold, or erase all but the opt-out record.

An erased patient's row stays as the opt-out record, but its number is replaced by a keyed hash of it
(ERASED_PREFIX + HMAC-SHA256 of the E.164 number): we no longer hold the number, yet recognise it when it
texts again or a practice system sends it back, and keep it suppressed.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime

from sqlalchemy import delete, update
from sqlmodel import Session, col, or_, select

from bot import runtime
from bot.errors import ConfigError, ValidationError
from bot.messaging.phones import normalize
from store.models import Appointment, AuditEvent, ConversationState, Escalation, Message, Patient, Referral, Touch

ERASED_PREFIX = "erased:"
"""How the phone column of an erased patient starts: what follows is the keyed hash, never the number."""


def erased_marker(phone: str) -> str:
    """What an erased patient's phone column holds for this number (the same for any spelling of it)."""
    settings = runtime.settings()
    key = settings.erasure_key or settings.secret_key
    if not key:
        raise ConfigError("AFTERCARE_ERASURE_KEY or SECRET_KEY: needed to recognise erased numbers")
    try:
        number = normalize(phone, settings.default_country)
    except ValidationError:
        number = phone.strip()
    return ERASED_PREFIX + hmac.new(key.encode(), number.encode(), hashlib.sha256).hexdigest()


def is_erased(patient: Patient) -> bool:
    """Whether this patient row is what is left of an erasure."""
    return patient.phone.startswith(ERASED_PREFIX)


def erased_number(session: Session, phone: str, practice_id: int | None = None) -> Patient | None:
    """The erased patient this number belonged to (at this practice, or any when None), if any."""
    query = select(Patient).where(Patient.phone == erased_marker(phone))
    if practice_id is not None:
        query = query.where(Patient.practice_id == practice_id)
    return session.exec(query).first()


def _plain(row) -> dict:
    out = {}
    for key, value in row.model_dump().items():
        out[key] = value.isoformat() if isinstance(value, (datetime, date)) else value
    return out


def export_patient(session: Session, patient_id: int, actor: str = "cli") -> dict | None:
    """Everything held about one patient, as JSON-ready data (the export is itself audited)."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        return None
    data = {
        "patient": _plain(patient),
        "appointments": [
            _plain(r) for r in session.exec(select(Appointment).where(Appointment.patient_id == patient_id))
        ],
        "messages": [
            _plain(r)
            for r in session.exec(
                select(Message).where(col(Message.patient_id) == patient_id).order_by(col(Message.id))
            )
        ],
        "touches": [
            _plain(r)
            for r in session.exec(select(Touch).where(col(Touch.patient_id) == patient_id).order_by(col(Touch.id)))
        ],
        "escalations": [_plain(r) for r in session.exec(select(Escalation).where(Escalation.patient_id == patient_id))],
        "referrals": [
            _plain(r)
            for r in session.exec(
                select(Referral).where(
                    or_(Referral.referrer_id == patient_id, Referral.referred_patient_id == patient_id)
                )
            )
        ],
        "audit": [
            _plain(r)
            for r in session.exec(
                select(AuditEvent).where(AuditEvent.subject_type == "patient", AuditEvent.subject_id == patient_id)
            )
        ],
    }
    session.add(
        AuditEvent(
            practice_id=patient.practice_id,
            actor=actor,
            action="patient_exported",
            subject_type="patient",
            subject_id=patient_id,
            created_at=runtime.clock().now(),
        )
    )
    return data


def erased(session: Session, patient_id: int) -> bool:
    """Whether this patient was erased (what is left is the hashed number and its opt-out)."""
    patient = session.get(Patient, patient_id)
    if patient is not None and is_erased(patient):
        return True
    return (
        session.exec(
            select(AuditEvent.id).where(
                AuditEvent.action == "patient_erased",
                AuditEvent.subject_type == "patient",
                AuditEvent.subject_id == patient_id,
            )
        ).first()
        is not None
    )


def erase_patient(session: Session, patient_id: int, actor: str = "cli") -> bool:
    """Delete what we hold about a patient but the opt-out, kept under a keyed hash of the number (not the
    number), which must outlive the rest so the number is never texted again (a START from it, or a
    practice system sending the patient back, cannot undo it)."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        return False
    now = runtime.clock().now()
    message_ids = select(Message.id).where(Message.patient_id == patient_id)
    session.exec(
        delete(Escalation).where(or_(Escalation.patient_id == patient_id, col(Escalation.message_id).in_(message_ids)))
    )
    session.exec(
        delete(Referral).where(or_(Referral.referrer_id == patient_id, Referral.referred_patient_id == patient_id))
    )
    session.exec(delete(Touch).where(col(Touch.patient_id) == patient_id))
    session.exec(delete(Message).where(col(Message.patient_id) == patient_id))
    session.exec(delete(ConversationState).where(col(ConversationState.patient_id) == patient_id))
    session.exec(delete(Appointment).where(col(Appointment.patient_id) == patient_id))
    session.exec(update(Patient).where(col(Patient.referred_by_id) == patient_id).values(referred_by_id=None))
    for key in (
        "external_id",
        "first_name",
        "last_name",
        "email",
        "birthday",
        "state",
        "referral_code",
        "referred_by_id",
        "care_sms_source",
        "care_sms_at",
        "marketing_sms_source",
        "marketing_sms_at",
        "flagged_at",
        "flag_reason",
    ):
        setattr(patient, key, None)
    patient.care_sms = patient.marketing_sms = patient.vip = False
    if not is_erased(patient):
        patient.phone = erased_marker(patient.phone)
    if patient.opted_out_at is None:
        patient.opted_out_at = now
        patient.opt_out_source = "erasure request"
    session.add(patient)
    session.add(
        AuditEvent(
            practice_id=patient.practice_id,
            actor=actor,
            action="patient_erased",
            subject_type="patient",
            subject_id=patient_id,
            created_at=now,
        )
    )
    return True
