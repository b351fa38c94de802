"""Not our patient's phone any more: the plan stops for this number, with one apology."""

from __future__ import annotations

from handlers.turn import Turn
from store.queries import cancel_pending_touches


def handle(turn: Turn) -> None:
    state = turn.state()
    if state is None or state.wrong_number:
        return
    state.wrong_number = True
    cancel_pending_touches(turn.session, turn.patient.id, reason="wrong_number")
    turn.actions.append("wrong_number")
    turn.reply("wrong_number")
