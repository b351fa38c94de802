"""A possible complication: escalate by urgency, tell the patient what to do now, never diagnose.

- emergency: "call our emergency line now, or 911", page on-call and backup;
- urgent: "our clinical team will call you shortly", page on-call;
- routine: "a clinician will read this and get back to you", staff inbox (no page).
"""

from __future__ import annotations

from bot.vocabulary import Urgency, is_paging
from handlers.turn import Turn


def handle(turn: Turn) -> None:
    decision = turn.decision
    urgency = Urgency.highest(decision.urgency, Urgency.ROUTINE)
    escalation = turn.escalate(urgency, decision.guard_rule or decision.intent)
    # The escalation may already be more urgent (the webhook's red-flag check): answer at its level, whose
    # reply (replies.toml "urgent", "emergency") is named after it.
    turn.reply(escalation.urgency if is_paging(escalation.urgency) else "side_effect")
