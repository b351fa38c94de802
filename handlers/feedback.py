"""Feedback: thanks for praise; a complaint goes to the manager (and holds back the review request)."""
from __future__ import annotations

from handlers.turn import Turn


def positive(turn: Turn) -> None:
    turn.reply("thanks")


def negative(turn: Turn) -> None:
    turn.to_staff("negative_feedback")
    turn.reply("sorry")


handle = negative
