"""Touch row transitions shared by the sender and the reconciler, and the outbound row's idempotency key."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.vocabulary import TouchStatus
from store.models import Message, Touch


def idempotency_key(touch_id: int) -> str:
    return f"touch-{touch_id}"


def wall() -> datetime:
    # Twilio dates messages by wall time; lookups compare against it, not the injectable clock.
    return datetime.now(UTC)


def finish(
    session, touch: Touch, status: str, reason: str | None, now: datetime, due_at: datetime | None = None
) -> bool:
    touch.status, touch.reason, touch.updated_at = status, reason, now
    if due_at is not None:
        touch.due_at = due_at
    session.add(touch)
    return True


def mark_sent(session, touch: Touch, message: Message, now: datetime) -> bool:
    message.sent_at = message.sent_at or now
    session.add(message)
    touch.status, touch.reason, touch.sent_at, touch.message_id, touch.updated_at = (
        TouchStatus.SENT,
        None,
        now,
        message.id,
        now,
    )
    touch.body = message.body
    session.add(touch)
    return True
