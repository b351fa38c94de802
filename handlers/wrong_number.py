"""Texts from a number that is not (or no longer) our patient's.

A number on file that says it is the wrong person gets one apology; every touch for it stops and the
number is flagged (no new plan reaches it) with an inbox item for staff to fix the record. A number not
on file at all gets only what carrier rules require (the HELP answer, the STOP confirmation), never
marketing, and its texts reach staff as an unrouted inbox item.
"""

from __future__ import annotations

from bot.conversation.escalations import open_escalation
from bot.vocabulary import Intent, Urgency
from handlers.turn import Turn
from store.queries import cancel_pending_touches, patients_for_inbound

FLAG_REASON = "wrong_number"
"""Patient.flag_reason of a number its holder says is not the patient's."""


def handle(turn: Turn) -> None:
    state = turn.state()
    if state is None or state.wrong_number:
        return
    state.wrong_number = True
    message = turn.message
    for each in patients_for_inbound(turn.session, message.from_number, message.to_number):
        stopped = cancel_pending_touches(turn.session, each.id, reason="wrong_number")
        turn.actions.append(f"touches_stopped:{stopped}")
        if each.flagged_at is None:
            each.flagged_at, each.flag_reason = turn.now, FLAG_REASON
            turn.session.add(each)
    turn.actions.append("wrong_number")
    # Its own item, whatever else is open: the record needs fixing, not a reply.
    open_escalation(turn.session, message.id, turn.patient, Urgency.ROUTINE, "wrong_number:fix_the_number")
    turn.actions.append("staff_inbox")
    turn.reply("wrong_number")


def unknown_number(turn: Turn) -> None:
    """A number not on file: the HELP answer (carrier rules) and nothing else; staff see the text as unrouted.
    (Its STOP goes to handlers/opt_out.py, confirmed once.)"""
    intent = turn.decision.intent
    keyword = (turn.decision.guard_rule or "").startswith("keyword:")
    if intent == Intent.HELP and not (keyword and turn.twilio_confirms_keywords()):
        turn.reply("help")
    turn.to_staff(intent)
