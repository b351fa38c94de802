"""Anything else ("ok", "👍", an emoji): recorded with its decision, nothing sent."""

from __future__ import annotations

from handlers.turn import Turn


def handle(turn: Turn) -> None:
    return None
