"""Staff fixed a patient's number (dashboard, or the practice system through the API or a CSV): the flag
on the old number no longer applies, and the care texts it stopped that still make sense are planned again."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from bot.touches.planner import plan_again_after_opt_in
from bot.vocabulary import EscalationStatus
from store.models import AuditEvent, ConversationState, Escalation, Patient

WRONG_NUMBER = "wrong_number"
"""The reason touches were stopped with when the number's holder said it was the wrong person."""


def number_changed(session: Session, patient: Patient, old_phone: str, actor: str, now: datetime) -> int:
    """Clear the old number's flag (wrong person, invalid, landline) and the conversation's wrong-number
    state, resolve the "fix the number" inbox item, plan again what the wrong-number report stopped, and
    audit it; the touches planned again.

    Call after `patient.phone` was set to a number other than `old_phone`."""
    if patient.phone == old_phone:
        return 0
    was_flagged = patient.flagged_at is not None
    state = session.get(ConversationState, patient.id)
    was_wrong = state is not None and state.wrong_number
    if not was_flagged and not was_wrong:
        return 0
    reason = patient.flag_reason
    patient.flagged_at, patient.flag_reason = None, None
    session.add(patient)
    if state is not None and state.wrong_number:
        state.wrong_number, state.updated_at = False, now
        session.add(state)
    # The inbox item asking staff to fix the number is done; left open it would hold the patient's texts back.
    for item in session.exec(
        select(Escalation).where(
            Escalation.patient_id == patient.id,
            col(Escalation.reason).startswith(WRONG_NUMBER),
            Escalation.status != EscalationStatus.RESOLVED,
        )
    ):
        item.status, item.resolved_at = EscalationStatus.RESOLVED, now
        session.add(item)
    session.flush()
    again = plan_again_after_opt_in(session, patient.id, now, stopped_by=WRONG_NUMBER, why="number fixed")
    session.add(
        AuditEvent(
            practice_id=patient.practice_id,
            actor=actor,
            action="number_fixed",
            subject_type="patient",
            subject_id=patient.id,
            detail={"flag_reason": reason, "planned_again": again},
            created_at=now,
        )
    )
    return again
