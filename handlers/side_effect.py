"""A possible complication: escalate by urgency, tell the patient what to do now, never diagnose.

- emergency: "call our emergency line now, or 911", page on-call and backup;
- urgent: "our clinical team will call you shortly", page on-call;
- routine: "a clinician will read this and get back to you", staff inbox (no page).
"""

from __future__ import annotations

from handlers.turn import ESCALATING, Turn


def handle(turn: Turn) -> None:
    decision = turn.decision
    urgency = decision.urgency if decision.urgency in ("routine", *ESCALATING) else "routine"
    escalation = turn.escalate(urgency, decision.guard_rule or decision.intent)
    # The escalation may already be more urgent (the webhook's red-flag check): answer at its level.
    turn.reply({"emergency": "emergency", "urgent": "urgent"}.get(escalation.urgency, "side_effect"))
