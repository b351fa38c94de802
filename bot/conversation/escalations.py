"""Escalations: one per inbound message, raised when a later read is more urgent, never lowered."""

from __future__ import annotations

from sqlmodel import Session, select

from bot import runtime
from bot.vocabulary import Urgency
from store.models import ConversationState, Escalation, Patient


def open_escalation(
    session: Session, message_id: int, patient: Patient | None, urgency: str, reason: str
) -> Escalation:
    """The message's open escalation, created if it has none (one per message), raised if more urgent."""
    existing = session.exec(select(Escalation).where(Escalation.message_id == message_id)).first()
    if existing is not None:
        if Urgency.of(urgency).outranks(existing.urgency):
            existing.urgency = urgency
            existing.reason = reason
            session.add(existing)
        return existing
    escalation = Escalation(
        practice_id=patient.practice_id if patient else None,
        patient_id=patient.id if patient else None,
        message_id=message_id,
        urgency=urgency,
        reason=reason,
        created_at=runtime.clock().now(),
    )
    session.add(escalation)
    session.flush()
    if patient is not None:
        # An open escalation holds back scheduled marketing until staff close it.
        state = session.get(ConversationState, patient.id) or ConversationState(patient_id=patient.id)
        state.updated_at = runtime.clock().now()
        session.add(state)
    return escalation
