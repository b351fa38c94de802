"""The outbound rows of touch texts: written before Twilio is called, Twilio's answers recorded after."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot import runtime
from bot.errors import TransportError
from bot.messaging import carrier_errors, delivery
from bot.touches import caps
from bot.touches.dispatch.rows import finish, idempotency_key, mark_sent, wall
from bot.touches.sending_rules import retry_delay
from bot.vocabulary import Direction, MessageKind, TouchStatus
from store.db import session_scope
from store.models import Location, Message, Patient, Touch, table_of


@dataclass(frozen=True)
class Sender:
    """Who a text goes out from: a number, or a messaging service that picks one."""

    number: str | None
    service_sid: str | None

    @property
    def key(self) -> str:
        return self.number or self.service_sid or "default"


def sender_for(location: Location | None, settings) -> Sender:
    if location is not None and location.sms_number:
        return Sender(location.sms_number, None)
    if settings.twilio_from_number:
        return Sender(settings.twilio_from_number, None)
    return Sender(None, settings.twilio_messaging_service_sid)


@dataclass
class Outbound:
    """A touch that passed the rules and is rendered, on its way to Twilio."""

    touch_id: int
    to: str
    body: str
    segments: int
    sender: Sender
    encoding: str
    practice_id: int
    patient_id: int
    marketing: bool
    claimed_at: datetime
    message_id: int | None = None
    attempts: int = 0


@functools.cache
def _record_statements():
    """The two UPDATEs of record_sent, built once: building them cost more than running them."""
    messages, touches = table_of(Message), table_of(Touch)
    return (
        update(messages)
        .where(messages.c.id == bindparam("mid"))
        .values(
            twilio_sid=bindparam("sid"), status=bindparam("st"), segments=bindparam("seg"), sent_at=bindparam("at")
        ),
        update(touches)
        .where(touches.c.id == bindparam("tid"), touches.c.status == TouchStatus.SENDING)
        .values(status=TouchStatus.SENT, reason=None, sent_at=bindparam("at"), updated_at=bindparam("at")),
    )


def record_sent(sent: list, now: datetime) -> None:
    """Twilio's answers on the rows, a few sends at a time as they return (one writer: SQLite's lock is
    not fought over by every sending thread); callbacks that beat their SID are applied here too."""
    messages_sent, touches_sent = _record_statements()
    with session_scope(runtime.db_url()) as session:
        connection = session.connection()
        connection.execute(
            messages_sent,
            [
                {
                    "mid": item.message_id,
                    "sid": result.sid,
                    "st": result.status,
                    "seg": result.num_segments or item.segments,
                    "at": now,
                }
                for item, result in sent
            ],
        )
        connection.execute(touches_sent, [{"tid": item.touch_id, "at": now} for item, _ in sent])
        delivery.apply_early_many(session, [result.sid for _, result in sent])


def prepare(session, touch: Touch, item: Outbound, now: datetime) -> str | None:
    """Write one touch's outbound row before Twilio is called; a string says why not to send."""
    return prepare_many(session, [(touch, item)], now).get(touch.id)


def prepare_many(session, pairs: list, now: datetime) -> dict[int, str]:
    """Write the outbound rows (one per touch, ever) before Twilio is called, setting each item's
    message_id and attempts so far; returns, for touches that must not be sent now, why."""
    keys = {idempotency_key(touch.id): (touch, item) for touch, item in pairs}
    existing = {
        m.idempotency_key: m for m in session.exec(select(Message).where(col(Message.idempotency_key).in_(list(keys))))
    }
    refused: dict[int, str] = {}
    attempt_at = wall().isoformat()
    new_rows = []
    for key, (touch, item) in keys.items():
        decision = {"touch_id": touch.id, "attempt_at": attempt_at}
        message = existing.get(key)
        if message is None:
            new_rows.append(
                {
                    "practice_id": item.practice_id,
                    "patient_id": item.patient_id,
                    "direction": Direction.OUT,
                    "kind": MessageKind.TOUCH,
                    "from_number": item.sender.number or item.sender.service_sid or "",
                    "to_number": item.to,
                    "body": item.body,
                    "idempotency_key": key,
                    "status": "pending",
                    "segments": item.segments,
                    "encoding": item.encoding,
                    "touch_id": touch.id,
                    "decision": decision,
                    "created_at": now,
                }
            )
            continue
        if message.twilio_sid:
            mark_sent(session, touch, message, now)
            refused[touch.id] = "sent (already at Twilio)"
            continue
        if message.status in ("pending", "unknown"):
            # An earlier attempt's outcome is not known: the reconciler looks it up at Twilio first.
            refused[touch.id] = "awaiting reconcile"
            continue
        # A retry after a send that provably failed: the same row, so a touch never has two.
        decision["attempts"] = item.attempts = int((message.decision or {}).get("attempts", 0))
        message.body, message.status, message.decision = item.body, "pending", decision
        message.segments, message.encoding = item.segments, item.encoding
        session.add(message)
        session.flush()
        item.message_id = message.id
    if new_rows:
        # Core rather than ORM objects: building a few hundred Message instances cost more than the INSERT.
        table = table_of(Message)
        try:
            inserted = session.execute(insert(table).returning(table.c.id, table.c.touch_id), new_rows).all()
        except IntegrityError:
            raise RuntimeError(
                f"outbound rows written concurrently for touches {sorted(t.id for t, _ in pairs)}"
            ) from None
        ids = {touch_id: message_id for message_id, touch_id in inserted}
        for touch, item in keys.values():
            if touch.id in ids:
                item.message_id = ids[touch.id]
    session.flush()
    ready = [(touch, item) for touch, item in keys.values() if touch.id not in refused]
    if ready:
        session.connection().execute(
            update(table_of(Touch))
            .where(table_of(Touch).c.id == bindparam("tid"))
            .values(message_id=bindparam("mid"), body=bindparam("text")),
            [{"tid": touch.id, "mid": item.message_id, "text": item.body} for touch, item in ready],
        )
    return refused


def failed(touch_id: int, message_id: int, exc: TransportError, attempts: int, now: datetime) -> str:
    """A send Twilio refused (permanent) or that never reached it (transient)."""

    with session_scope(runtime.db_url()) as session:
        # Rows this batch claimed and wrote: they are there.
        message = session.get_one(Message, message_id)
        touch = session.get_one(Touch, touch_id)
        patient = session.get_one(Patient, touch.patient_id)
        message.status = "failed" if exc.permanent else "not_sent"
        message.error_code = exc.code
        message.decision = {**(message.decision or {}), "attempts": attempts}
        session.add(message)
        if exc.permanent:
            if exc.code is not None:
                carrier_errors.act_on(session, patient, exc.code, message_id, now)
            session.refresh(touch)
            finish(session, touch, TouchStatus.FAILED, f"twilio {exc.code}: {exc}"[:500], now)
            return f"failed: {exc.code}"
        if attempts >= caps.MAX_SEND_ATTEMPTS:
            finish(session, touch, TouchStatus.FAILED, f"gave up after {attempts} attempts: {exc}"[:500], now)
            return "failed: attempts"
        finish(
            session,
            touch,
            TouchStatus.SCHEDULED,
            f"retry {attempts}: {exc}"[:500],
            now,
            due_at=now + retry_delay(attempts),
        )
        return "retry"
