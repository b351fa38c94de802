"""Touches that go out as email: recorded before the SMTP hand-off, handed over once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select

from bot import runtime
from bot.consent import gate
from bot.errors import TransportError
from bot.messaging import mailer
from bot.touches.dispatch.rows import finish, idempotency_key, mark_sent
from bot.touches.sending_rules import PAUSED_REASON, retry_delay
from bot.vocabulary import Direction, MessageKind, TouchStatus
from store.db import session_scope
from store.models import Message, Patient, Touch


@dataclass
class Email:
    """A touch that passed the rules and goes out as an email."""

    touch_id: int
    to: str
    subject: str
    body: str
    practice_id: int
    patient_id: int
    marketing: bool


def email_message_id(touch_id: int) -> str:
    """The Message-ID of a touch's email: the same on every attempt, so a mail system can tell a copy."""
    return f"<touch-{touch_id}@aftercare.local>"


def send_email(email: Email, now: datetime, settings) -> str:
    """Record the email before handing it to SMTP, then hand it over once: a crash after the hand-off
    leaves the record "transmitting", which settles as failed, never as a second copy."""
    key = idempotency_key(email.touch_id)
    with session_scope(runtime.db_url()) as session:
        record = session.exec(select(Message).where(Message.idempotency_key == key)).first()
        if record is not None and record.status != "not_sent":
            # An earlier attempt reached the hand-off: its outcome stands (sent, or unknown).
            touch = session.get_one(Touch, email.touch_id)
            if record.status == "sent":
                mark_sent(session, touch, record, now)
                return "sent (email, earlier attempt)"
            finish(session, touch, TouchStatus.FAILED, "email_outcome_unknown", now)
            return "failed: email outcome unknown"
        patient = session.get_one(Patient, email.patient_id)
        refused = gate.refusal(session, patient, now, kind=MessageKind.TOUCH, marketing=email.marketing)
        if refused == gate.PAUSED:
            finish(
                session,
                session.get_one(Touch, email.touch_id),
                TouchStatus.SCHEDULED,
                f"{PAUSED_REASON} (at send time)",
                now,
            )
            return f"held: {refused}"
        if refused is not None:  # an opt-out or a takeover since the batch was decided
            touch = session.get_one(Touch, email.touch_id)
            finish(session, touch, TouchStatus.SUPPRESSED, f"{refused} (at send time)", now)
            return f"{TouchStatus.SUPPRESSED}: {refused}"
        if record is None:
            record = Message(
                practice_id=email.practice_id,
                patient_id=email.patient_id,
                direction=Direction.OUT,
                kind=MessageKind.TOUCH,
                from_number=settings.mail_from,
                to_number=email.to,
                body=email.body,
                idempotency_key=key,
                touch_id=email.touch_id,
                created_at=now,
            )
        record.status, record.status_at = "transmitting", now
        session.add(record)
        session.flush()
        record_id = record.id
        session.exec(update(Touch).where(col(Touch.id) == email.touch_id).values(message_id=record_id, body=email.body))
    try:
        where = mailer.send(settings, email.to, email.subject, email.body, message_id=email_message_id(email.touch_id))
    except TransportError as exc:
        with session_scope(runtime.db_url()) as session:
            touch = session.get_one(Touch, email.touch_id)
            session.exec(update(Message).where(col(Message.id) == record_id).values(status="not_sent"))
            if exc.permanent:
                finish(session, touch, TouchStatus.FAILED, f"email: {exc}"[:500], now)
                return "failed: email"
            finish(session, touch, TouchStatus.SCHEDULED, f"email retry: {exc}"[:500], now, due_at=now + retry_delay(1))
        return "retry"
    with session_scope(runtime.db_url()) as session:
        session.exec(update(Message).where(col(Message.id) == record_id).values(status="sent", sent_at=now))
        touch = session.get_one(Touch, email.touch_id)
        touch.sent_at = now
        finish(session, touch, TouchStatus.SENT, f"email: {where}", now)
    return "sent (email)"
