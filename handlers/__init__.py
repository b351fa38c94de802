"""What happens after a reply is understood: one module per intent, each with `handle(turn)`.

`ROUTES` maps every intent the classifier knows to its handler. A handler
changes the database through the `Turn` it is given (opt-outs, escalations,
the staff inbox, conversation state) and may queue one reply; the caller
commits, then delivers the queued texts and pages (bot.messaging.outbox, bot.staff.paging).
Anything urgent or an emergency goes to `side_effect` whatever the intent,
so a clinical problem never waits behind a booking question.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.vocabulary import Intent, is_paging
from handlers import (
    defer,
    feedback,
    help,
    opt_in,
    opt_out,
    other,
    question,
    rebook,
    referral,
    reschedule,
    side_effect,
    wrong_number,
)
from handlers.turn import Turn

ROUTES: dict[str, Callable[[Turn], None]] = {
    Intent.SIDE_EFFECT_CONCERN: side_effect.handle,
    Intent.REBOOK_REQUEST: rebook.handle,
    Intent.RESCHEDULE_OR_CANCEL: reschedule.handle,
    Intent.DEFER: defer.handle,
    Intent.REFERRAL: referral.handle,
    Intent.OPT_OUT: opt_out.handle,
    Intent.OPT_IN: opt_in.handle,
    Intent.HELP: help.handle,
    Intent.QUESTION: question.handle,
    Intent.POSITIVE_FEEDBACK: feedback.positive,
    Intent.NEGATIVE_FEEDBACK: feedback.negative,
    Intent.WRONG_NUMBER: wrong_number.handle,
    Intent.OTHER: other.handle,
}
"""Intent -> handler; an intent missing here is a bug (tests check every classifier intent is routed)."""


def route(turn: Turn) -> None:
    """Run the decision's handler (side_effect for anything urgent, except an opt-out, which escalates itself).

    A bare yes or no to our "reply YES to cancel" question answers it, whatever the classifier made of it."""
    intent = turn.decision.intent
    handler = ROUTES.get(intent, other.handle)
    if intent not in (Intent.OPT_OUT, Intent.HELP) and reschedule.awaiting_answer(turn):
        handler = reschedule.answer
    if is_paging(turn.decision.urgency) and intent != Intent.OPT_OUT:
        handler = side_effect.handle
    turn.handler = f"{handler.__module__.rsplit('.', 1)[-1]}.{handler.__name__}"
    handler(turn)


__all__ = ["ROUTES", "Turn", "route"]
