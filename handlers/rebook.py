"""A booking wish: the staff inbox, and a note that someone will text back with times.

(Offering real open slots needs calendar sync; until then a person picks the times.)
"""
from __future__ import annotations

from handlers.turn import Turn


def handle(turn: Turn) -> None:
    if turn.to_staff("rebook_request"):
        turn.reply("rebook")
