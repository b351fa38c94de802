"""START, UNSTOP, "add me back": care texts resume; marketing waits for fresh consent.

Twilio answers its own START/UNSTOP keywords (TWILIO_CONFIRMS_OPT_OUT); anything else is ours to confirm,
once, whether the webhook opted the patient in (a keyword: its guard names who) or this handler did.
"""

from __future__ import annotations

import re

from bot.consent.opt_out import opt_in
from bot.understanding import textnorm
from handlers.turn import Turn
from store.queries import patients_for_inbound

ASKS_BACK_IN = re.compile(
    r"\b(start|unstop|subscribe|resubscribe|add me|back|again|resume|opt ?in|volver|vuelvo|vuelve|suscrib\w*|"
    r"de nuevo|otra vez|reactiv\w*)\b"
)
"""Words a free-text opt-in says it with ("add me back", "quiero volver a recibirlos"): a model's opt-in
without them ("2", "ok" after our "you're unsubscribed") is no consent."""


def says_so(body: str) -> bool:
    """Whether the text asks in words to get texts again."""
    return bool(ASKS_BACK_IN.search(" ".join(textnorm.words(body))))


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
