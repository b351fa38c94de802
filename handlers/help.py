"""HELP / INFO, or "who is this?": who is texting and how to reach a person (carrier rules), and the staff inbox."""

from __future__ import annotations

from handlers.turn import Turn


def handle(turn: Turn) -> None:
    turn.to_staff("help")
    rule = turn.decision.guard_rule or ""
    if rule.startswith("keyword:") and turn.twilio_confirms_keywords():
        return  # Twilio answered its HELP keyword already
    turn.reply("help")
