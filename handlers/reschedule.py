"""Moving or cancelling an appointment: the front desk handles it from the staff inbox."""

from __future__ import annotations

from handlers.turn import Turn


def handle(turn: Turn) -> None:
    if turn.to_staff("reschedule_or_cancel"):
        turn.reply("reschedule")
