"""Per intent, how freely the bot answers: send at once, draft for staff approval, or not at all.

The safety replies (emergency and urgent instructions) and what carrier rules require (opt-out,
opt-in, HELP) are never drafted nor switched off, whatever the practice chose.
"""

from __future__ import annotations

from sqlmodel import Session

from bot.consent.gate import UNPAUSABLE_REPLIES
from bot.vocabulary import CONTROLLED_INTENTS, Autonomy
from store.models import Practice


def autonomy_for(session: Session, practice_id: int | None, intent: str, reply_kind: str) -> Autonomy:
    """What the practice chose for this intent, AUTO for a reply that must always go."""
    if reply_kind in UNPAUSABLE_REPLIES or intent not in CONTROLLED_INTENTS or practice_id is None:
        return Autonomy.AUTO
    practice = session.get(Practice, practice_id)
    chosen = (practice.autonomy or {}).get(intent) if practice is not None else None
    try:
        return Autonomy(chosen) if chosen else Autonomy.AUTO
    except ValueError:
        return Autonomy.AUTO


def parse(form: dict) -> tuple[dict[str, str], list[str]]:
    """The autonomy map from a form ({intent: value}), and the errors: unknown intents or values."""
    chosen: dict[str, str] = {}
    errors = []
    for intent, value in form.items():
        if intent not in CONTROLLED_INTENTS:
            errors.append(f"{intent}: not an intent the bot's autonomy applies to")
        elif value not in tuple(Autonomy):
            errors.append(f"{intent}: {value!r} is not one of auto, draft, off")
        elif value != Autonomy.AUTO:
            chosen[intent] = value
    return chosen, errors
