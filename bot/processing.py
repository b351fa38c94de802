"""Handling one inbound message in the worker: who sent it, what it means, what happens now."""
from __future__ import annotations

import logging

from sqlmodel import Session, select

from bot import guards, runtime
from bot.inbound import open_escalation, opt_in, opt_out
from bot.phones import mask
from store.db import session_scope
from store.models import ConversationState, Escalation, Message, Patient
from store.queries import cancel_pending_touches, last_visit, patients_for_inbound, recent_messages

log = logging.getLogger(__name__)

ESCALATING = ("urgent", "emergency")

NEEDS_STAFF = ("rebook_request", "reschedule_or_cancel", "question", "negative_feedback", "referral", "help")
"""Intents a person at the practice must answer: each reaches the staff inbox as a routine item
(one open item per patient), so no booking wish or complaint waits unseen."""


def build_context(session: Session, message: Message, patient: Patient | None) -> dict:
    """What the classifier may know: treatment, days since the visit, the thread, the pending question.
    Never the patient's name, phone or birthday."""
    context = {"treatment": None, "days_since_visit": None, "last_outbound": None, "history": [],
               "pending": None, "language": None, "redact": []}
    if patient is None:
        return context
    context["language"] = patient.language
    # Our own texts greet the patient by name: the classifier scrubs these before any LLM call.
    context["redact"] = [name for name in (patient.first_name, patient.last_name) if name]
    visit = last_visit(session, patient.id)
    if visit is not None:
        appointment, service = visit
        context["treatment"] = service.category
        context["days_since_visit"] = max(0, (message.created_at - appointment.start_at).days)
    history = recent_messages(session, patient.id, limit=6, before_id=message.id)
    context["history"] = [{"direction": m.direction, "body": m.body} for m in history]
    outbound = [m for m in history if m.direction == "out"]
    context["last_outbound"] = outbound[-1].body if outbound else None
    state = session.get(ConversationState, patient.id)
    if state is not None and state.pending:
        context["pending"] = state.pending
    return context


def _has_open_item(session: Session, patient_id: int) -> bool:
    return session.exec(select(Escalation.id).where(Escalation.patient_id == patient_id,
                                                    Escalation.status != "resolved")).first() is not None


def handle_message(message_id: int) -> str:
    """Guards, then the classifier, then the decision's consequences; the decision is stored on the message."""
    from bot.classifier import classify

    settings = runtime.settings()
    now = runtime.clock().now()
    with session_scope(runtime.db_url()) as session:
        message = session.get(Message, message_id)
        if message is None:
            return "no such message"
        patients = patients_for_inbound(session, message.from_number, message.to_number)
        patient = patients[0] if patients else None
        if patient is not None:
            message.patient_id = patient.id
            message.practice_id = patient.practice_id
        context = build_context(session, message, patient)

        # Guards again, now with the treatment known: a red flag is escalated before any LLM call.
        guard = guards.check(message.body, context["treatment"], context["days_since_visit"])
        if guard is not None and guard.urgency in ESCALATING:
            open_escalation(session, message.id, patient, guard.urgency, guard.rule)
            session.commit()

    decision = classify(message.body, context, settings)

    with session_scope(runtime.db_url()) as session:
        message = session.get(Message, message_id)
        patient = session.get(Patient, message.patient_id) if message.patient_id else None
        record = dict(message.decision or {})
        record.update(decision.to_record())
        actions = []
        if decision.intent == "opt_out":
            for each in patients_for_inbound(session, message.from_number, message.to_number):
                if opt_out(session, each, source=f"sms:{decision.path}", message_id=message.id):
                    actions.append("opted_out")
        elif decision.intent == "opt_in":
            # START/UNSTOP, "YES" not answering an offer, or "add me back": care texts resume;
            # marketing stays off until the patient gives that consent again.
            for each in patients_for_inbound(session, message.from_number, message.to_number):
                if opt_in(session, each, message_id=message.id):
                    actions.append("opted_in")
        if decision.intent == "side_effect_concern" or decision.urgency in ESCALATING:
            urgency = decision.urgency if decision.urgency in ("routine", *ESCALATING) else "routine"
            escalation = open_escalation(session, message.id, patient, urgency, decision.guard_rule or decision.intent)
            actions.append(f"escalation:{escalation.urgency}")
        elif decision.intent in NEEDS_STAFF and patient is not None and not _has_open_item(session, patient.id):
            open_escalation(session, message.id, patient, "routine", f"needs_reply:{decision.intent}")
            actions.append("staff_inbox")
        if patient is not None:
            state = session.get(ConversationState, patient.id) or ConversationState(patient_id=patient.id)
            if decision.intent == "wrong_number" and not state.wrong_number:
                # Not our patient's phone any more: the plan stops for this number.
                state.wrong_number = True
                cancel_pending_touches(session, patient.id, reason="wrong_number")
                actions.append("wrong_number")
            state.last_inbound_at = message.created_at
            state.updated_at = now
            session.add(state)
        record["actions"] = actions
        message.decision = record
        session.add(message)
    log.info("message %s from %s: %s/%s via %s", message_id, mask(message.from_number),
             decision.intent, decision.urgency, decision.path)
    return decision.intent
