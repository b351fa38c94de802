"""Not now ("maybe next month"): acknowledged; pending touches keep their schedule and quiet hours."""
from __future__ import annotations

from handlers.turn import Turn


def handle(turn: Turn) -> None:
    turn.reply("defer")
