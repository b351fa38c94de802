"""Opt-out and opt-in: recorded once, with pending touches suppressed and an audit event."""

from __future__ import annotations

from sqlmodel import Session

from bot import runtime
from bot.consent.privacy import erased
from bot.touches.planner import OPTED_OUT, plan_again_after_opt_in
from store.models import AuditEvent, Patient
from store.queries import cancel_pending_touches


def opt_out(session: Session, patient: Patient, source: str, message_id: int | None = None) -> bool:
    """Record an opt-out: both consents cleared, pending touches suppressed. False if already out."""
    if patient.opted_out_at is not None:
        return False
    now = runtime.clock().now()
    patient.opted_out_at = now
    patient.opt_out_source = source
    patient.care_sms = False
    patient.marketing_sms = False
    session.add(patient)
    cancel_pending_touches(session, patient.id, reason=OPTED_OUT)
    session.add(
        AuditEvent(
            practice_id=patient.practice_id,
            actor="patient",
            action="opt_out",
            subject_type="patient",
            subject_id=patient.id,
            detail={"source": source, "message_id": message_id},
            created_at=now,
        )
    )
    return True


def opt_in(session: Session, patient: Patient, message_id: int | None = None) -> bool:
    """Record an opt-in keyword: texting resumes for care messages (marketing needs its own consent) and
    the care steps the opt-out stopped that still apply are planned again. False if not opted out, or
    erased: an erased patient stays out whatever the number texts."""
    if patient.opted_out_at is None or erased(session, patient.id):
        return False
    now = runtime.clock().now()
    patient.opted_out_at = None
    patient.opt_out_source = None
    patient.care_sms = True
    patient.care_sms_source = "sms keyword"
    patient.care_sms_at = now
    session.add(patient)
    session.add(
        AuditEvent(
            practice_id=patient.practice_id,
            actor="patient",
            action="opt_in",
            subject_type="patient",
            subject_id=patient.id,
            detail={"message_id": message_id},
            created_at=now,
        )
    )
    session.flush()
    plan_again_after_opt_in(session, patient.id, now)
    return True
