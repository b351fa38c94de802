"""Feedback: thanks for praise (and the review request, if one is still to come, is brought forward);
a complaint gets an apology, its own inbox item and an alert to the managers (by text or email, as each
prefers); the review request still to come is skipped, and marketing is held for the settings'
complaint_hold (bot.touches.sending_rules)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from bot.conversation.escalations import open_escalation
from bot.growth import events
from bot.staff.paging import COMPLAINT
from bot.vocabulary import TouchStatus, Urgency
from handlers.turn import Turn
from store.models import Touch
from store.queries import cancel_pending_touches

REVIEW_AFTER_PRAISE = timedelta(minutes=10)
"""A pending review request goes this long after the patient says they love their results."""


def positive(turn: Turn) -> None:
    turn.reply("thanks")
    if turn.patient is None:
        return
    review = turn.session.exec(
        select(Touch)
        .where(
            col(Touch.patient_id) == turn.patient.id,
            col(Touch.purpose) == "review",
            col(Touch.status) == TouchStatus.SCHEDULED,
            col(Touch.due_at) > turn.now + REVIEW_AFTER_PRAISE,
        )
        .order_by(col(Touch.due_at))
    ).first()
    if review is not None:
        # The best moment to ask for a review is right after they said they love it (the sending rules still apply).
        review.due_at, review.updated_at = turn.now + REVIEW_AFTER_PRAISE, turn.now
        review.reason = "brought forward: praised the results"
        turn.session.add(review)
        turn.actions.append("review_brought_forward")
    # Praise for the results a check-in asked about is the moment for the treatment's next step.
    if (made := events.after_results(turn.session, turn.patient, turn.now)) is not None:
        turn.actions.append(f"offer_planned:{made.id}")


def negative(turn: Turn) -> None:
    turn.reply("sorry")
    if turn.patient is None:
        return
    # Its own item whatever else is open: a manager must hear of it, not only whoever reads the inbox.
    complaint = open_escalation(turn.session, turn.message.id, turn.patient, Urgency.ROUTINE, COMPLAINT)
    turn.actions.append("staff_inbox:complaint")
    if complaint.paged_at is None and complaint.id not in turn.alerts:
        turn.alerts.append(complaint.id)
        turn.actions.append("managers_alerted")
    skipped = cancel_pending_touches(turn.session, turn.patient.id, reason="complaint", purposes=("review",))
    if skipped:
        turn.actions.append("review_skipped")


handle = negative
