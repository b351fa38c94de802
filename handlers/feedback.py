"""Feedback: thanks for praise (and the review request, if one is still to come, is brought forward);
a complaint goes to the manager and holds back the review request."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from bot.vocabulary import TouchStatus
from handlers.turn import Turn
from store.models import Touch

REVIEW_AFTER_PRAISE = timedelta(minutes=10)
"""A pending review request goes this long after the patient says they love their results."""


def positive(turn: Turn) -> None:
    turn.reply("thanks")
    if turn.patient is None:
        return
    review = turn.session.exec(
        select(Touch)
        .where(
            Touch.patient_id == turn.patient.id,
            Touch.purpose == "review",
            Touch.status == TouchStatus.SCHEDULED,
            Touch.due_at > turn.now + REVIEW_AFTER_PRAISE,
        )
        .order_by(col(Touch.due_at))
    ).first()
    if review is not None:
        # The best moment to ask for a review is right after they said they love it (the sending rules still apply).
        review.due_at, review.updated_at = turn.now + REVIEW_AFTER_PRAISE, turn.now
        review.reason = "brought forward: praised the results"
        turn.session.add(review)
        turn.actions.append("review_brought_forward")


def negative(turn: Turn) -> None:
    turn.to_staff("negative_feedback")
    turn.reply("sorry")


handle = negative
