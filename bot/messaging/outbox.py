"""Texts that answer someone: replies to a patient who just wrote, and pages to staff.

The row comes first: a handler writes the outbound message (status "pending",
an idempotency key naming what it answers) in the same transaction as the
decision, and the delivery job sends it after the commit. So a crash never
loses a reply nor sends one twice:

- the job claims the row (`pending -> transmitting`, row count checked) before
  it calls Twilio, so a duplicate job sends nothing;
- a row still "pending" after QUEUED_GRACE lost its job (Redis flushed, worker
  gone): the sweep enqueues it again;
- a row left "transmitting" after SENDING_GRACE was cut off mid-send: the sweep
  asks Twilio whether it has the text (To, From, date, exact body) and adopts
  it, or puts it back in the queue when Twilio provably never had it.

Both statuses are ours, not Twilio's: once Twilio answers, the row carries
Twilio's status (queued, sent, delivered, ...) and its SID.

Replies and pages are not held by quiet hours: the patient just wrote, or a
patient needs a clinician now.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from rq import Retry
from sqlalchemy import update
from sqlmodel import Session, col, select

from bot import runtime
from bot.clock import to_utc
from bot.consent import gate
from bot.errors import AmbiguousSendError, TransportError
from bot.messaging import carrier_errors, delivery, segments
from bot.messaging.phones import mask
from bot.messaging.transport import transport
from bot.queue import get_queue
from bot.vocabulary import Direction, MessageKind
from store.db import session_scope
from store.models import Message, Patient, Practice

log = logging.getLogger(__name__)

PENDING, TRANSMITTING, WITHHELD = "pending", "transmitting", "withheld"
"""Written and waiting for its job; claimed by a job and being handed to Twilio; never to be sent."""
DRAFT, DISCARDED = "draft", "discarded"
"""A reply waiting in the inbox for staff to approve (then PENDING) or discard (bot.messaging.drafts)."""
DELIVER_JOB = "bot.messaging.outbox.deliver"
QUEUE = "alerts"
"""Replies, pages and staff texts share the alerts queue, ahead of the bulk touch sends."""
ANSWERS = (MessageKind.REPLY, MessageKind.PAGE, MessageKind.STAFF)
"""The kinds of text this outbox sends (touches have their own path, bot.touches.dispatch)."""
DELIVER_RETRY = Retry(max=3, interval=[5, 20, 60])
"""A transient failure (Twilio 5xx after the transport's own retries) is tried again by RQ."""
QUEUED_GRACE = timedelta(seconds=30)
"""A pending row older than this has lost its job: enqueue it again."""
SENDING_GRACE = timedelta(minutes=2)
"""A row "transmitting" for longer than this was cut off: settle it with Twilio."""
GIVE_UP_AFTER = timedelta(hours=1)
"""A reply this old is no longer an answer: marked failed instead of sent late (pages are always sent)."""


def queue_text(
    session: Session,
    *,
    key: str,
    to: str,
    from_: str,
    body: str,
    kind: MessageKind,
    reply_kind: str | None = None,
    escalation_id: int | None = None,
    practice_id: int | None = None,
    patient_id: int | None = None,
    staff_user_id: int | None = None,
    now: datetime | None = None,
    status: str = PENDING,
) -> Message | None:
    """The outbound row for `key`, written once; None when a row with this key already exists.

    A reply names its `reply_kind` (replies.toml) and a page its `escalation_id`: queries ask those
    columns, never the key.

    `status` other than PENDING records a text that left another way (the webhook's TwiML answer).

    The body goes as segments.fit writes it under the practice's `gsm_only` choice."""
    if session.exec(select(Message.id).where(Message.idempotency_key == key)).first() is not None:
        return None
    practice = session.get(Practice, practice_id) if practice_id is not None else None
    # As written (accents kept, UCS-2 when needed), unless the practice sends GSM-only.
    counted = segments.fit(body, gsm_only=bool(practice is not None and practice.gsm_only))
    body = counted.body
    now = now or runtime.clock().now()
    message = Message(
        practice_id=practice_id,
        patient_id=patient_id,
        staff_user_id=staff_user_id,
        direction=Direction.OUT,
        kind=kind,
        reply_kind=reply_kind,
        escalation_id=escalation_id,
        from_number=from_,
        to_number=to,
        body=body,
        status=status,
        idempotency_key=key,
        segments=counted.segments,
        encoding=counted.encoding,
        created_at=now,
        sent_at=None if status in (PENDING, DRAFT) else now,
        status_at=None if status == PENDING else now,
    )
    session.add(message)
    session.flush()
    return message


def enqueue(message_ids) -> None:
    """Queue delivery jobs (call after the rows are committed); deterministic ids, one round trip."""
    ids = [i for i in message_ids if i is not None]
    if not ids:
        return
    queue = get_queue(QUEUE, runtime.settings())
    with queue.connection.pipeline() as pipe:
        for message_id in ids:
            queue.enqueue(
                DELIVER_JOB,
                message_id,
                job_id=f"deliver-{message_id}",
                retry=DELIVER_RETRY,
                result_ttl=3600,
                failure_ttl=7 * 24 * 3600,
                pipeline=pipe,
            )
        pipe.execute()


def deliver(message_id: int) -> str:
    """Send one pending row; returns what became of it. Safe to run twice or on many workers."""
    settings = runtime.settings()
    now = runtime.clock().now()
    with session_scope(runtime.db_url()) as session:
        message = session.get(Message, message_id)
        if message is None:
            return "no such message"
        if message.status != PENDING:
            return f"already {message.status}"
        if message.kind == MessageKind.REPLY and now - to_utc(message.created_at) > GIVE_UP_AFTER:
            message.status, message.status_at = "failed", now
            session.add(message)
            log.warning(
                "%s %s to %s not sent: over %s old", message.kind, message_id, mask(message.to_number), GIVE_UP_AFTER
            )
            return "too late"
        claimed = session.exec(
            update(Message)
            .where(col(Message.id) == message_id, col(Message.status) == PENDING)
            .values(status=TRANSMITTING, status_at=now)
        ).rowcount
        if claimed != 1:
            return "claimed elsewhere"
        to, body, sender = message.to_number, message.body, message.from_number
        patient_id, kind, reply_kind = message.patient_id, message.kind, message.reply_kind
        if (message.decision or {}).get("approved_by"):
            kind = MessageKind.STAFF  # a draft staff approved is staff's own text: no kill switch holds it
    status_callback = f"{settings.public_base_url}/sms/status" if settings.public_base_url else None
    try:
        # Asked again now: an opt-out or a takeover may have landed since the row was written.
        with gate.held(patient_id, to, kind=kind, reply_kind=reply_kind) as check:
            refused = check.refusal
            if refused is None:
                result = transport().send(to, body, from_=sender or None, status_callback=status_callback)
                _record_in(check.session, message_id, result.sid, result.status, result.num_segments)
    except AmbiguousSendError:
        log.warning("%s to %s may have been sent; the sweep will ask Twilio", message_id, mask(to))
        return "ambiguous"
    except TransportError as error:
        with session_scope(runtime.db_url()) as session:
            message = session.get_one(Message, message_id)  # claimed above: the row is there
            message.status_at = runtime.clock().now()
            message.error_code = error.code
            message.status = "failed" if error.permanent else PENDING
            session.add(message)
            patient = session.get(Patient, message.patient_id) if message.patient_id else None
            if error.permanent and error.code is not None and patient is not None and message.kind != MessageKind.PAGE:
                carrier_errors.act_on(session, patient, error.code, message.id, message.status_at)
        if error.permanent:
            log.warning("%s to %s refused: %s", message_id, mask(to), error)
            return "failed"
        raise  # RQ retries it (DELIVER_RETRY); the sweep catches it if the retries run out
    if refused == gate.PAUSED:
        _hold_as_draft(message_id)
        log.info("%s %s to %s held as a draft: the kill switch is on", kind, message_id, mask(to))
        return f"held: {refused}"
    if refused is not None:
        _withhold(message_id, refused)
        log.info("%s %s to %s withheld: %s", kind, message_id, mask(to), refused)
        return f"withheld: {refused}"
    return "sent"


def _withhold(message_id: int, reason: str) -> None:
    """A row that must not go any more (the patient opted out, staff took over): kept, never sent."""
    with session_scope(runtime.db_url()) as session:
        session.exec(
            update(Message)
            .where(col(Message.id) == message_id, col(Message.status) == TRANSMITTING)
            .values(status=WITHHELD, status_at=runtime.clock().now(), decision={"withheld": reason})
        )


def _hold_as_draft(message_id: int) -> None:
    """A reply the kill switch stopped: kept in the inbox as a draft, for staff to approve or discard."""
    with session_scope(runtime.db_url()) as session:
        message = session.get(Message, message_id)
        if message is None or message.status != TRANSMITTING:
            return
        message.status, message.status_at = DRAFT, runtime.clock().now()
        message.decision = {**(message.decision or {}), "held": gate.PAUSED}
        session.add(message)


def _record(message_id: int, sid: str, status: str, segments: int | None) -> None:
    with session_scope(runtime.db_url()) as session:
        _record_in(session, message_id, sid, status, segments)


def _record_in(session: Session, message_id: int, sid: str, status: str, segments: int | None) -> None:
    """Twilio's SID and status on the row, in the transaction that sent it: a delivery callback that
    arrives a moment later finds the SID."""
    now = runtime.clock().now()
    message = session.get_one(Message, message_id)
    message.twilio_sid = sid
    message.status = status or "sent"
    message.segments = segments or message.segments
    message.sent_at = message.status_at = now
    session.add(message)
    delivery.apply_early(session, sid)


def sweep(now: datetime | None = None) -> dict:
    """Re-enqueue pending rows whose job is gone; settle rows cut off mid-send (every worker's tick runs this)."""
    now = to_utc(now or runtime.clock().now())
    with session_scope(runtime.db_url()) as session:
        lost = list(
            session.exec(
                select(Message.id).where(
                    Message.direction == Direction.OUT,
                    Message.status == PENDING,
                    col(Message.kind).in_(ANSWERS),
                    Message.created_at < now - QUEUED_GRACE,
                )
            )
        )
        stuck = session.exec(
            select(Message).where(
                Message.direction == Direction.OUT,
                Message.status == TRANSMITTING,
                col(Message.kind).in_(ANSWERS),
                col(Message.status_at) < now - SENDING_GRACE,
            )
        ).all()
    requeued = 0
    for message in stuck:
        try:
            found = transport().find_sent(
                message.to_number,
                message.body,
                to_utc(message.created_at) - timedelta(minutes=1),
                from_=message.from_number or None,
            )
        except TransportError as error:
            log.warning("cannot settle %s yet: %s", message.id, error)
            continue
        if found is not None:
            _record(message.id, found.sid, found.status, found.num_segments)
            continue
        with session_scope(runtime.db_url()) as session:
            requeued += session.exec(
                update(Message)
                .where(col(Message.id) == message.id, col(Message.status) == TRANSMITTING)
                .values(status=PENDING, status_at=now)
            ).rowcount
        lost.append(message.id)
    enqueue(lost)
    return {"requeued": len(lost), "settled": len(stuck) - requeued}
