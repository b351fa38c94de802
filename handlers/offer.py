"""A bare yes (or the ADD an offer asks for) or no to an offer texted in the last three days
(bot.growth.answers): a yes to an add-on adds it to the visit, or to the front desk's request, and the
patient is told; any other yes goes to the team's inbox; a no is thanked and recorded."""

from __future__ import annotations

import re
from datetime import datetime

from bot.booking import picks
from bot.conversation.escalations import open_escalation
from bot.growth import answers, events
from bot.understanding import textnorm
from bot.vocabulary import Intent, OfferMoment, Urgency
from handlers.turn import Turn


def awaiting_answer(turn: Turn) -> bool:
    """Whether this text answers an offer we texted (a bare yes or no, with an offer open)."""
    if turn.patient is None or turn.patient.opted_out_at is not None:
        return False
    body = turn.message.body
    if not (answers.accepts(body) or picks.says_no(body)):
        return False
    offer = answers.open_offer(turn.session, turn.patient.id, turn.now)
    if offer is None:
        return False
    # Times offered after the offer was texted are the newer question: a yes picks them, not the offer.
    state = turn.state()
    pending = state.pending if state is not None and state.pending else {}
    asked = pending.get("asked_at") if pending.get("kind") == "slots" else None
    sent = answers.sent_at(turn.session, offer)
    if asked and sent and datetime.fromisoformat(asked) > sent:
        return False
    # An add-on inside a booking reply is answered by a bare yes only while that reply is our last word: after
    # "we've moved your request to 11:00", an "ok" is about the move. Its ADD answers it whatever came since.
    return not (
        offer.moment == OfferMoment.AT_BOOKING
        and not answers.says_add(body)
        and answers.texted_since(turn.session, offer)
    )


def answer(turn: Turn) -> None:
    patient = turn.known_patient()
    offer = answers.open_offer(turn.session, patient.id, turn.now)
    if offer is None:  # routed here only when awaiting_answer found one
        turn.actions.append("no_open_offer")
        return
    if not answers.accepts(turn.message.body):
        answers.decline(turn.session, offer, turn.now)
        turn.actions.append(f"offer_declined:{offer.id}")
        turn.reply("offer_declined")
        return
    kind, visit, note = answers.accept(turn.session, offer, turn.now, turn.settings.booking_mode)
    turn.actions.append(f"offer_accepted:{offer.id}")
    reason = "add_on_requested" if kind == "offer_requested" else "offer_accepted"
    if kind != "offer_added":
        item = open_escalation(turn.session, turn.message.id, patient, Urgency.ROUTINE, reason)
        item.note = note
        turn.session.add(item)
        turn.actions.append(f"staff_inbox:{reason}")
    values = {"offer": answers.described(turn.session, offer, turn.language())}
    if visit is not None:
        values["when"] = answers.when_text(turn.session, visit, turn.language())
    turn.reply(kind, appointment=visit, **values)


GOAL_INTENTS = (Intent.OTHER, Intent.QUESTION, Intent.POSITIVE_FEEDBACK, Intent.REBOOK_REQUEST)
"""Intents a "my goal has changed" text may be read as (it is neither a booking nor a question at heart)."""


COMPLAINT = re.compile(
    r"\b(unhappy|not happy|disappoint\w*|refund|terrible|awful|angry|upset|worse|hate|molest\w*|decepcion\w*|"
    r"reembolso|horrible|enojad\w*)\b"
)
"""Words that keep a text a complaint even when it names a new goal."""


def says_goal_changed(turn: Turn) -> bool:
    """Whether the text says the patient's goal changed ("now I just want to maintain"). The local classifier
    often reads such a text as negative feedback; it is one only with a complaint's words in it."""
    if turn.patient is None or turn.patient.opted_out_at is not None:
        return False
    goal = events.goal_named(turn.message.body)
    if turn.decision.intent == Intent.NEGATIVE_FEEDBACK:
        return bool(goal) and not COMPLAINT.search(" ".join(textnorm.words(turn.message.body)))
    return turn.decision.intent in GOAL_INTENTS and goal is not None


def goal_changed(turn: Turn) -> None:
    """Staff see the change in the inbox; the matching offer (if the matrix has one) follows as a touch."""
    patient = turn.known_patient()
    goal = events.goal_named(turn.message.body) or ""
    offer = events.goal_change(turn.session, patient, goal, turn.now)
    item = open_escalation(turn.session, turn.message.id, patient, Urgency.ROUTINE, "goal_changed")
    item.note = f"Goal changed{f' to {goal}' if goal else ''}: {turn.message.body[:200]}" + (
        f" Offer planned: {offer.item}." if offer is not None else ""
    )
    turn.session.add(item)
    turn.actions.append("staff_inbox:goal_changed")
    if offer is not None:
        turn.actions.append(f"offer_planned:{offer.id}")
    turn.reply("goal_noted")
