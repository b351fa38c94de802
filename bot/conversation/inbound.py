"""Inbound texts: what the webhook records at once, and the job that handles them later."""

from __future__ import annotations

import logging
from datetime import timedelta

from redis.exceptions import RedisError
from rq import Retry
from sqlalchemy import bindparam, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from bot import runtime
from bot.consent.opt_out import opt_in, opt_out
from bot.conversation.escalations import open_escalation
from bot.conversation.replies import compose, may_reply
from bot.messaging import outbox
from bot.messaging.phones import mask
from bot.queue import get_queue, redis_connection
from bot.staff import paging
from bot.understanding import guards
from bot.vocabulary import Direction, Intent, MessageKind, is_paging
from store.db import autocommit_connection, get_engine, retry_on_disconnect, session_scope
from store.models import Message, Patient
from store.queries import last_visit, patients_for_inbound

log = logging.getLogger(__name__)

PROCESS_JOB = "bot.conversation.processing.process_inbound"
"""Dotted path of the job that classifies and handles one inbound message."""

PROCESS_RETRY = Retry(max=3, interval=[10, 60, 300])
"""A processing job that failed (database restarting, a bug) runs again; its claim keeps it once."""


_RECORD_STATEMENTS: dict = {}


def _record_statement(dialect_name: str):
    """INSERT … ON CONFLICT (twilio_sid) DO NOTHING RETURNING id, built once per dialect: building it
    costs more than running it."""
    statement = _RECORD_STATEMENTS.get(dialect_name)
    if statement is None:
        dialect = postgresql if dialect_name == "postgresql" else sqlite
        table = Message.__table__  # type: ignore[attr-defined]
        statement = _RECORD_STATEMENTS[dialect_name] = (
            dialect.insert(table)
            .values(
                {
                    name: bindparam(name)
                    for name in (
                        "direction",
                        "kind",
                        "from_number",
                        "to_number",
                        "body",
                        "twilio_sid",
                        "status",
                        "segments",
                        "created_at",
                    )
                }
            )
            .on_conflict_do_nothing(index_elements=["twilio_sid"])
            .returning(table.c.id)
        )
    return statement


def record(params: dict) -> int | None:
    """Store a Twilio inbound form as a message; None when its MessageSid was seen before."""
    url = runtime.db_url()
    statement = _record_statement(get_engine(url).dialect.name)
    values = {
        "direction": Direction.IN,
        "kind": MessageKind.INBOUND,
        "from_number": params["From"],
        "to_number": params["To"],
        "body": params.get("Body", ""),
        "twilio_sid": params["MessageSid"],
        "status": "received",
        "segments": _int_or_none(params.get("NumSegments")),
        "created_at": runtime.clock().now(),
    }

    def insert():
        with autocommit_connection(url) as connection:
            return connection.execute(statement, values).scalar()

    return retry_on_disconnect(insert)


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


TWILIO_OPT_OUT_TYPES = {"STOP": "opt_out", "START": "opt_in"}
"""Twilio's OptOutType values that change consent (HELP changes nothing)."""

TREATMENT_SPECIFIC_FAMILIES = ("filler", "laser")
"""Families whose red flags need the treatment known; a hit on either makes the webhook look it up."""


def guard(params: dict) -> guards.GuardResult | None:
    """The guard that fires on this inbound text, decided without waiting on anything but the database.

    Most texts fire nothing and cost no query; a text that would be a red flag after some treatment
    costs one lookup of the patient's last visit."""
    body = params.get("Body", "")
    result = guards.check(body)
    if result is None and params.get("OptOutType", "").upper() in TWILIO_OPT_OUT_TYPES:
        # Twilio's Advanced Opt-Out matched one of the keywords configured on the account.
        kind = params["OptOutType"].upper()
        return guards.GuardResult(TWILIO_OPT_OUT_TYPES[kind], "none", f"twilio_opt_out_type:{kind.lower()}", kind)
    # An occlusion is a filler's red flag: without the treatment it is assumed, so look the treatment up.
    occlusion = result is not None and result.rule.endswith("redflag:vascular_occlusion")
    if (result is not None and not occlusion) or not guards.flags_for_some_treatment(body, TREATMENT_SPECIFIC_FAMILIES):
        return result

    def lookup():
        with session_scope(runtime.db_url()) as session:
            patients = patients_for_inbound(session, params["From"], params["To"])
            return last_visit(session, patients[0].id) if patients else None

    visit = retry_on_disconnect(lookup)  # a connection dropped by a database restart must not lose a red flag
    if visit is None:
        return guards.check(body, "other")
    appointment, service = visit
    days = max(0, (runtime.clock().now() - appointment.start_at).days)
    return guards.check(body, service.category, days)


def apply_guard(message_id: int, params: dict, guard: guards.GuardResult) -> str | None:
    """Act on a guard at once, in the request: opt-outs are final and red flags open an escalation
    before any LLM call, even if no worker ever runs. Returns the safety reply to answer a red flag
    with (TwiML), written as the message's reply so the worker does not send it again."""
    reply, escalation_id = retry_on_disconnect(lambda: _apply_guard(message_id, params, guard))
    if escalation_id is not None:
        try:  # paged from here: a red flag does not wait for the worker to reach its text
            paging.enqueue(escalation_id)
        except RedisError as error:
            log.warning("escalation %s: page waits for the sweep (%s)", escalation_id, error)
    log.info("guard %s on message %s from %s", guard.rule, message_id, mask(params["From"]))
    return reply


def _apply_guard(message_id: int, params: dict, guard: guards.GuardResult) -> tuple[str | None, int | None]:
    """One transaction of apply_guard (run again whole if its connection was dropped)."""
    reply, escalation_id = None, None
    with session_scope(runtime.db_url()) as session:
        patients = patients_for_inbound(session, params["From"], params["To"])
        opted_in = []
        if guard.intent == Intent.OPT_OUT:
            for patient in patients:
                opt_out(session, patient, source=f"sms:{guard.rule}", message_id=message_id)
        elif guard.intent == Intent.OPT_IN and guard.keyword in ("START", "UNSTOP"):
            opted_in = [patient.id for patient in patients if opt_in(session, patient, message_id=message_id)]
        if is_paging(guard.urgency):  # also when the same text opted out
            sender = patients[0] if patients else None
            escalation_id = open_escalation(session, message_id, sender, guard.urgency, guard.rule).id
            if guard.intent == Intent.SIDE_EFFECT_CONCERN and sender is not None:
                reply = _safety_reply(session, message_id, params, sender, guard.urgency)
        record: dict[str, dict] = {
            "guard": {
                "intent": guard.intent,
                "urgency": guard.urgency,
                "rule": guard.rule,
                "keyword": guard.keyword,
                "at": "webhook",
            }
        }
        if reply:
            record["guard"]["reply"] = "twiml"
        if opted_in:
            # The worker's handler finds these patients already in: this tells it to confirm (once).
            record["guard"]["opted_in"] = opted_in
        session.exec(update(Message).where(col(Message.id) == message_id).values(decision=record))
    return reply, escalation_id


def _safety_reply(session: Session, message_id: int, params: dict, patient: Patient, urgency: str) -> str | None:
    """A red flag's safety reply (the "emergency" or "urgent" reply), recorded under the key the worker's
    handler would use, so it is answered once, here, in the TwiML."""
    now = runtime.clock().now()
    if not may_reply(session, patient, urgency, now):
        return None
    row = outbox.queue_text(
        session,
        key=f"reply-{message_id}-{urgency}",
        to=params["From"],
        from_=params["To"],
        body=compose(session, patient, urgency),
        kind=MessageKind.REPLY,
        reply_kind=urgency,
        practice_id=patient.practice_id,
        patient_id=patient.id,
        now=now,
        status="twiml",
    )
    return row.body if row is not None else None


CLAIM_EXPIRES = timedelta(minutes=2)
"""A claim on an inbound text older than this belonged to a worker that died: the text is processed again.
Handling takes seconds (the LLM path is bounded at 10 s)."""

REQUEUE_AFTER_S = 60
"""An inbound text still unprocessed after this long lost its job (Redis restarted): enqueue it again."""


def enqueue(message_id: int) -> None:
    """Queue the processing job; the deterministic id keeps one job per message in Redis."""
    queue = get_queue("inbound", runtime.settings())
    with queue.connection.pipeline() as pipe:  # one round trip instead of two
        queue.enqueue(
            PROCESS_JOB,
            message_id,
            job_id=f"inbound-{message_id}",
            retry=PROCESS_RETRY,
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
            pipeline=pipe,
        )
        pipe.execute()


def requeue_unprocessed(limit: int = 500) -> int:
    """Enqueue inbound texts still undecided whose job vanished (Redis lost it) or whose worker died
    (its claim expired while RQ still calls the job started); `claim` keeps each processed once."""
    now = runtime.clock().now()
    cutoff = now - timedelta(seconds=REQUEUE_AFTER_S)
    with session_scope(runtime.db_url()) as session:
        ids = list(
            session.exec(
                select(Message.id)
                .where(
                    Message.direction == Direction.IN,
                    col(Message.processed_at).is_(None),
                    Message.created_at < cutoff,
                    or_(col(Message.claimed_at).is_(None), col(Message.claimed_at) < now - CLAIM_EXPIRES),
                )
                .order_by(col(Message.id))
                .limit(limit)
            )
        )
    if not ids:
        return 0
    connection = redis_connection(runtime.settings())
    pipe = connection.pipeline(transaction=False)
    for message_id in ids:
        pipe.hget(f"rq:job:inbound-{message_id}", "status")
    waiting = (b"queued", b"scheduled", b"deferred")
    lost = [message_id for message_id, status in zip(ids, pipe.execute()) if status not in waiting]
    for message_id in lost:
        enqueue(message_id)
    if lost:
        log.warning("re-enqueued %d inbound message(s) whose job or worker was lost", len(lost))
    return len(lost)
