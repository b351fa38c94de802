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

from bot.understanding.decision import Decision
from bot.vocabulary import Intent, is_paging
from handlers import (
    ask_for_person,
    defer,
    feedback,
    help,
    offer,
    opt_in,
    opt_out,
    other,
    question,
    rebook,
    referral,
    reschedule,
    review,
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
    Intent.ASK_FOR_PERSON: ask_for_person.handle,
    Intent.QUESTION: question.handle,
    Intent.POSITIVE_FEEDBACK: feedback.positive,
    Intent.NEGATIVE_FEEDBACK: feedback.negative,
    Intent.WRONG_NUMBER: wrong_number.handle,
    Intent.OTHER: other.handle,
}
"""Intent -> handler; an intent missing here is a bug (tests check every classifier intent is routed)."""


NOT_WHILE_OPTED_OUT = (
    Intent.REBOOK_REQUEST,
    Intent.RESCHEDULE_OR_CANCEL,
    Intent.REFERRAL,
    Intent.DEFER,
    Intent.POSITIVE_FEEDBACK,
)
"""Intents whose handlers book, offer or market: an opted-out patient's text of these kinds only reaches staff."""
PICKS_AN_OFFER = (
    Intent.REBOOK_REQUEST,
    Intent.RESCHEDULE_OR_CANCEL,
    Intent.QUESTION,
    Intent.OTHER,
    Intent.POSITIVE_FEEDBACK,
)
"""Intents a text naming one of the times on offer may be read as; the pick wins ("can I do the 11am instead?"),
as it does over a "defer" reading of a pick by date ("mejor el 1 de diciembre"); a new day or time named
during an offer gets new times only from these intents (a "not now, maybe next week" stays a deferral)."""


def model_side_effect(decision: Decision) -> bool:
    """A routine side effect only the model saw: no red flag, nothing paging."""
    return decision.intent == Intent.SIDE_EFFECT_CONCERN and not decision.guard_rule and not is_paging(decision.urgency)


def route(turn: Turn) -> None:
    """Run the decision's handler (side_effect for anything urgent, except an opt-out, which escalates itself);
    a model opt-out no guard confirmed, or a decision below its confidence threshold, goes to staff instead.

    A bare yes or no to our "reply YES to cancel" question answers it, a bare yes while the front desk has a
    request is told when they will answer, and a text naming one of the times on offer picks it, whatever the
    classifier made of them."""
    decision = turn.decision
    intent = decision.intent
    handler = ROUTES.get(intent, other.handle)
    # A model's opt-out that no guard confirmed is no opt-out yet: a bare "no" may answer our question.
    answers_us = intent not in (Intent.OPT_OUT, Intent.HELP) or decision.needs_confirmation
    if answers_us and reschedule.awaiting_answer(turn):
        handler = reschedule.answer
    elif answers_us and offer.awaiting_answer(turn):
        handler = offer.answer
    elif answers_us and rebook.awaits_front_desk(turn):
        handler = rebook.request_pending  # "ok" once the front desk has the request: when they will answer
    elif (intent in PICKS_AN_OFFER or intent == Intent.DEFER) and rebook.picks_offered_time(turn):
        handler = rebook.handle
    elif offer.says_goal_changed(turn):
        handler = offer.goal_changed
    elif intent in PICKS_AN_OFFER and rebook.restates_wish(turn) and not question.names_a_topic(turn):
        handler = rebook.handle  # "anything after 3pm on a weekday?" to offered times: times that match
    elif model_side_effect(decision) and rebook.asks_relative_to_offer(turn):
        handler = rebook.handle  # "¿algo un poco más temprano?" is no symptom, whatever the model made of "un poco"
    elif intent == Intent.OPT_OUT and decision.needs_confirmation:
        handler = review.confirm_opt_out
    elif decision.needs_review and intent != Intent.SIDE_EFFECT_CONCERN:
        handler = review.hold
    if intent == Intent.OPT_IN and not decision.guard_rule and not opt_in.says_so(turn.message.body):
        # Consent is asked for by keyword or in words, never read into a "2" or an "ok": staff see it instead.
        handler = opt_out.opted_out_wrote if turn.patient and turn.patient.opted_out_at else other.handle
    opted_out = turn.patient is not None and turn.patient.opted_out_at is not None
    if opted_out and (intent in NOT_WHILE_OPTED_OUT or handler is rebook.handle):
        handler = opt_out.opted_out_wrote
    if turn.patient is None and intent != Intent.OPT_OUT:
        handler = wrong_number.unknown_number  # nobody to book, answer or market to: carrier answers only
    if is_paging(decision.urgency) and intent != Intent.OPT_OUT:
        handler = side_effect.handle  # red flags are read whatever the consent
    turn.handler = f"{handler.__module__.rsplit('.', 1)[-1]}.{handler.__name__}"
    handler(turn)


__all__ = ["ROUTES", "Turn", "route"]
