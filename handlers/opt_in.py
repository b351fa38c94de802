"""START, UNSTOP, "add me back": care texts resume; marketing waits for fresh consent.

Twilio answers its own START/UNSTOP keywords (TWILIO_CONFIRMS_OPT_OUT); anything else is ours to confirm,
once, whether the webhook opted the patient in (a keyword: its guard names who) or this handler did.
"""

from __future__ import annotations

from bot.consent.opt_out import opt_in
from handlers.turn import Turn
from store.queries import patients_for_inbound


def handle(turn: Turn) -> None:
    message = turn.message
    changed = bool(((message.decision or {}).get("guard") or {}).get("opted_in"))
    if changed:
        turn.actions.append("opted_in:webhook")
    for each in patients_for_inbound(turn.session, message.from_number, message.to_number):
        if opt_in(turn.session, each, message_id=message.id):
            turn.actions.append("opted_in")
            changed = True
    rule = turn.decision.guard_rule or ""
    if not changed or (rule.startswith("keyword:") and turn.twilio_confirms_keywords()):
        return
    turn.reply("opt_in")
