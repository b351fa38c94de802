"""A patient wants to refer a friend: the team follows up from the staff inbox.

The friend is never texted without the friend's own consent.
"""
from __future__ import annotations

from handlers.turn import Turn


def handle(turn: Turn) -> None:
    if turn.to_staff("referral"):
        turn.reply("referral")
