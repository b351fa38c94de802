"""What happens after a reply is understood: one module per intent, each with `handle(turn)`.

`ROUTES` maps every intent the classifier knows to its handler. A handler
changes the database through the `Turn` it is given (opt-outs, escalations,
the staff inbox, conversation state) and may queue one reply; the caller
commits, then delivers the queued texts and pages (bot.messaging.outbox, bot.staff.paging).
Anything urgent or an emergency goes to `side_effect` whatever the intent,
so a clinical problem never waits behind a booking question.
"""

from __future__ import annotations

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
from handlers.turn import ESCALATING, Turn

ROUTES = {
    "side_effect_concern": side_effect.handle,
    "rebook_request": rebook.handle,
    "reschedule_or_cancel": reschedule.handle,
    "defer": defer.handle,
    "referral": referral.handle,
    "opt_out": opt_out.handle,
    "opt_in": opt_in.handle,
    "help": help.handle,
    "question": question.handle,
    "positive_feedback": feedback.positive,
    "negative_feedback": feedback.negative,
    "wrong_number": wrong_number.handle,
    "other": other.handle,
}
"""Intent -> handler; an intent missing here is a bug (tests check every classifier intent is routed)."""


def route(turn: Turn) -> None:
    """Run the decision's handler (side_effect for anything urgent, except an opt-out, which escalates itself)."""
    intent = turn.decision.intent
    handler = ROUTES.get(intent, other.handle)
    if turn.decision.urgency in ESCALATING and intent != "opt_out":
        handler = side_effect.handle
    turn.handler = f"{handler.__module__.rsplit('.', 1)[-1]}.{handler.__name__}"
    handler(turn)


__all__ = ["ROUTES", "Turn", "route"]
