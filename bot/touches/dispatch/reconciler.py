"""Repairs: re-enqueue queued touches whose job vanished, settle "sending" touches whose worker died."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import col, select

from bot import runtime
from bot.clock import to_utc
from bot.errors import TransportError
from bot.messaging import delivery
from bot.messaging.transport import transport
from bot.touches.dispatch.jobs import enqueue, without_live_job
from bot.touches.dispatch.rows import finish, idempotency_key, mark_sent, wall
from bot.vocabulary import TouchStatus
from store.db import session_scope
from store.models import Message, Patient, Touch

log = logging.getLogger(__name__)


QUEUED_GRACE = timedelta(seconds=60)
"""A queued touch whose job is gone after this long is enqueued again."""
RECONCILE_BATCH = 1000
"""Stuck touches one reconcile pass looks at."""


def reconcile(now: datetime | None = None) -> dict:
    """Re-enqueue queued touches whose job vanished or whose worker died; settle "sending" touches whose
    worker died (no lease renewed for `send_lease_s`): their outcome is looked up at Twilio."""
    now = to_utc(now or runtime.clock().now())
    with session_scope(runtime.db_url()) as session:
        queued = list(
            session.exec(
                select(Touch.id)
                .where(col(Touch.status) == TouchStatus.QUEUED, col(Touch.claimed_at) < now - QUEUED_GRACE)
                .order_by(col(Touch.id))
                .limit(RECONCILE_BATCH)
            )
        )
        sending = list(
            session.exec(
                select(Touch.id)
                .where(
                    Touch.status == TouchStatus.SENDING,
                    col(Touch.claimed_at) < now - timedelta(seconds=runtime.settings().send_lease_s),
                )
                .order_by(col(Touch.id))
                .limit(RECONCILE_BATCH)
            )
        )
    lost = without_live_job(queued)
    requeued = enqueue(lost) if lost else 0
    settled = sum(1 for touch_id in without_live_job(sending) if settle_sending(touch_id, now))
    return {"requeued": requeued, "settled": settled}


def settle_sending(touch_id: int, now: datetime) -> bool:
    """Decide what happened to a touch left "sending": sent (adopt the SID) or provably not (schedule again)."""
    with session_scope(runtime.db_url()) as session:
        touch = session.get(Touch, touch_id)
        if touch is None or touch.status != TouchStatus.SENDING:
            return False
        if touch.channel == "email":
            # Mail has no lookup: a record written before the hand-off but never finished is never resent.
            record = session.get(Message, touch.message_id) if touch.message_id else None
            if record is not None and record.status == "sent":
                return mark_sent(session, touch, record, now)
            if record is None or record.status == "not_sent":
                return finish(
                    session, touch, TouchStatus.SCHEDULED, "retry: worker stopped before emailing", now, due_at=now
                )
            return finish(session, touch, TouchStatus.FAILED, "email_outcome_unknown", now)
        message = session.exec(select(Message).where(Message.idempotency_key == idempotency_key(touch_id))).first()
        if message is None or message.status == "not_sent":
            return finish(
                session, touch, TouchStatus.SCHEDULED, "retry: worker stopped before sending", now, due_at=now
            )
        if message.twilio_sid:
            return mark_sent(session, touch, message, now)
        patient = session.get_one(Patient, touch.patient_id)
        since = _attempt_wall(message) - timedelta(minutes=2)
        number: str | None = message.from_number
        service: str | None = None
        if number and number.startswith("MG"):
            number, service = None, number
    try:
        found = transport().find_sent(
            patient.phone, message.body, since, from_=number or None, messaging_service_sid=service
        )
    except TransportError as exc:
        log.warning("touch %s: Twilio lookup failed (%s); will try again", touch_id, exc)
        return False
    with session_scope(runtime.db_url()) as session:
        touch = session.get(Touch, touch_id)
        row = session.get(Message, message.id)
        if touch is None or row is None or touch.status != TouchStatus.SENDING:
            return False  # settled meanwhile (or erased)
        message = row
        if found is not None:
            message.twilio_sid, message.status = found.sid, found.status
            message.segments = found.num_segments or message.segments
            session.add(message)
            delivery.apply_early(session, found.sid)
            log.info("touch %s was at Twilio as %s; marked sent without resending", touch_id, found.sid)
            return mark_sent(session, touch, message, now)
        message.status = "not_sent"
        session.add(message)
        return finish(
            session, touch, TouchStatus.SCHEDULED, "retry: not found at Twilio after worker stopped", now, due_at=now
        )


def _attempt_wall(message: Message) -> datetime:
    decision = message.decision or {}
    try:
        return datetime.fromisoformat(decision["attempt_at"])
    except (KeyError, TypeError, ValueError):
        return wall() - timedelta(days=2)
