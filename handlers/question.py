"""A question: answered by a person from the staff inbox (the bot never improvises clinical or price answers)."""
from __future__ import annotations

from handlers.turn import Turn


def handle(turn: Turn) -> None:
    if turn.to_staff("question"):
        turn.reply("question")
