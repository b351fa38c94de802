"""Handling one inbound message in the worker: who sent it, what it means, what happens now."""

from __future__ import annotations

import logging
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import or_, update
from sqlmodel import Session, col

from bot import runtime
from bot.consent.privacy import erased_number
from bot.conversation.escalations import open_escalation
from bot.conversation.inbound import CLAIM_EXPIRES
from bot.messaging import outbox
from bot.messaging.phones import mask
from bot.staff import paging
from bot.understanding import guards
from bot.understanding.classifier import classify
from bot.vocabulary import Direction, Urgency, is_paging
from handlers import Turn, route
from store.db import session_scope
from store.models import ConversationState, Message, Patient
from store.queries import last_visit, patients_for_inbound, practice_for_number, recent_messages

log = logging.getLogger(__name__)


def build_context(session: Session, message: Message, patient: Patient | None) -> dict:
    """What the classifier may know: treatment, days since the visit, the thread, the pending question.
    Never the patient's name, phone or birthday."""
    context: dict[str, Any] = {
        "treatment": None,
        "days_since_visit": None,
        "last_outbound": None,
        "history": [],
        "pending": None,
        "language": None,
        "redact": [],
    }
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
    outbound = [m for m in history if m.direction == Direction.OUT]
    context["last_outbound"] = outbound[-1].body if outbound else None
    state = session.get(ConversationState, patient.id)
    if state is not None and state.pending:
        context["pending"] = state.pending
    return context


def _from_erased_number(session: Session, message: Message, gone: Patient, now) -> str:
    """A text from a number erased on request changes nothing (a START does not resubscribe it) and
    nothing answers it; an admin gets an item to decide what to do (a new consent is a person's call)."""
    message.practice_id = gone.practice_id
    message.decision = {"erased": True, "handler": "erased_number", "actions": ["admin_item"]}
    message.processed_at = now
    session.add(message)
    session.flush()
    escalation = open_escalation(session, message.id, None, Urgency.ROUTINE, "erased_number_texted")
    escalation.practice_id = gone.practice_id
    session.add(escalation)
    return "erased"


def handle_message(message_id: int) -> str:
    """Guards, then the classifier, then the decision's consequences; the decision is stored on the message."""
    settings = runtime.settings()
    now = runtime.clock().now()
    with session_scope(runtime.db_url()) as session:
        message = session.get(Message, message_id)
        if message is None:
            return "no such message"
        if paging.staff_acknowledgement(session, message):
            return "staff"
        patients = patients_for_inbound(session, message.from_number, message.to_number)
        patient = patients[0] if patients else None
        if patient is not None:
            message.patient_id = patient.id
            message.practice_id = patient.practice_id
        else:
            gone = erased_number(session, message.from_number, practice_for_number(session, message.to_number))
            if gone is not None:
                return _from_erased_number(session, message, gone, now)
        context = build_context(session, message, patient)

        # Guards again, now with the treatment known: a red flag is escalated before any LLM call.
        guard = guards.check(message.body, context["treatment"], context["days_since_visit"])
        red_flag = None
        if guard is not None and is_paging(guard.urgency):
            red_flag = open_escalation(session, message.id, patient, guard.urgency, guard.rule).id
            session.commit()
    if red_flag is not None:
        try:
            paging.enqueue(red_flag)  # staff are paged before the classifier is even asked
        except RedisError as error:
            log.warning("escalation %s: page waits for the sweep (%s)", red_flag, error)

    decision = classify(message.body, context, settings)

    with session_scope(runtime.db_url()) as session:
        message = session.get_one(Message, message_id)  # read above, in the first transaction
        patient = session.get(Patient, message.patient_id) if message.patient_id else None
        record = dict(message.decision or {})
        record.update(decision.to_record())
        turn = Turn(session=session, message=message, patient=patient, decision=decision, now=now, settings=settings)
        route(turn)
        state = turn.state()  # None without a patient
        if state is not None:
            state.last_inbound_at = message.created_at
            state.updated_at = now
        record["actions"] = turn.actions
        record["handler"] = turn.handler
        message.decision = record
        session.add(message)
        session.flush()
        # Done only when the decision is stored, in the transaction of everything the handler wrote.
        done = session.exec(
            update(Message)
            .where(col(Message.id) == message_id, col(Message.processed_at).is_(None))
            .values(processed_at=now)
        ).rowcount
        if done != 1:
            raise _AlreadyProcessed(message_id)
    # Committed: now the texts may leave (replies, pages). The work is done and must not run again if Redis
    # fails here: the worker's sweeps send rows and page escalations whose job never got queued.
    try:
        for escalation_id in turn.pages:
            paging.enqueue(escalation_id)
        for escalation_id in turn.alerts:
            paging.enqueue_alert(escalation_id)
        outbox.enqueue(turn.outbound)
    except RedisError as error:
        log.warning("message %s handled; its texts wait for the sweep (%s)", message_id, error)
    log.info(
        "message %s from %s: %s/%s via %s",
        message_id,
        mask(message.from_number),
        decision.intent,
        decision.urgency,
        decision.path,
    )
    return decision.intent


def claim(message_id: int) -> bool:
    """Take a message for processing; False when it is done or another live run holds it.

    A claim older than CLAIM_EXPIRES belonged to a worker that died mid-way: it is taken over."""
    now = runtime.clock().now()
    with session_scope(runtime.db_url()) as session:
        result = session.exec(
            update(Message)
            .where(
                col(Message.id) == message_id,
                col(Message.processed_at).is_(None),
                or_(col(Message.claimed_at).is_(None), col(Message.claimed_at) < now - CLAIM_EXPIRES),
            )
            .values(claimed_at=now)
        )
        return result.rowcount == 1


class _AlreadyProcessed(Exception):
    """Another run stored this message's decision first; this run's work is rolled back."""


def process_inbound(message_id: int) -> str:
    """Classify one inbound message and act on it (job; runs at most once per message)."""
    if not claim(message_id):
        return "already processed"
    try:
        return handle_message(message_id)
    except _AlreadyProcessed:
        return "already processed"
    except Exception:
        # Give the claim back so the job's retry can finish the work; every step of handling is
        # idempotent per message (one escalation per message, opt-outs recorded once).
        release(message_id)
        raise


def release(message_id: int) -> None:
    """Undo a claim whose processing failed."""
    with session_scope(runtime.db_url()) as session:
        session.exec(update(Message).where(col(Message.id) == message_id).values(claimed_at=None))
