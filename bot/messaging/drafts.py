"""Drafts: bot replies waiting in the inbox for staff (the intent is set to "draft", or the kill switch
held them). Approved, a draft goes out through the outbox like any reply; discarded, it never goes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.messaging import outbox, segments
from bot.vocabulary import MessageKind
from store import scope
from store.models import Message, Practice
from store.scope import Places

MAX_DRAFT = 640
"""An edited draft stays within four segments, as a staff reply does."""


def waiting(session: Session, practice_id: int, limit: int = 50, places: Places = None) -> list[Message]:
    """The practice's drafts (of these locations when given: store.scope), oldest first."""
    return list(
        session.exec(
            select(Message)
            .where(
                Message.practice_id == practice_id,
                Message.kind == MessageKind.REPLY,
                Message.status == outbox.DRAFT,
                scope.rule(Message, places),
            )
            .order_by(col(Message.created_at), col(Message.id))
            .limit(limit)
        )
    )


def approve(session: Session, message: Message, staff_id: int, now: datetime, body: str | None = None) -> bool:
    """Make the draft a pending reply, edited to `body` when given; False when it is no longer a draft
    (approved or discarded by someone else first). Enqueue its delivery after the commit."""
    practice = session.get(Practice, message.practice_id) if message.practice_id is not None else None
    gsm_only = bool(practice is not None and practice.gsm_only)
    # Staff's own words: folded only for a GSM-only practice, or past the four segments a draft may take.
    counted = segments.fit(body if body and body.strip() else message.body, gsm_only=gsm_only, max_segments=4)
    text = counted.body
    decision = {**(message.decision or {}), "approved_by": staff_id, "edited": text != message.body}
    # Sent now, as staff approved it: the reply's age counts from the approval, not from the draft.
    changed = session.exec(
        update(Message)
        .where(col(Message.id) == message.id, col(Message.status) == outbox.DRAFT)
        .values(
            status=outbox.PENDING,
            body=text,
            segments=counted.segments,
            encoding=counted.encoding,
            staff_user_id=staff_id,
            decision=decision,
            created_at=now,
            status_at=now,
        )
    ).rowcount
    return changed == 1


def discard(session: Session, message: Message, staff_id: int, now: datetime) -> bool:
    """The draft never goes; False when it is no longer a draft."""
    changed = session.exec(
        update(Message)
        .where(col(Message.id) == message.id, col(Message.status) == outbox.DRAFT)
        .values(
            status=outbox.DISCARDED,
            staff_user_id=staff_id,
            decision={**(message.decision or {}), "discarded_by": staff_id},
            status_at=now,
        )
    ).rowcount
    return changed == 1
