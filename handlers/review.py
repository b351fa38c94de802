"""Decisions no one should act on alone: staff get them with the best guess, the patient nothing or a holding reply.

- A model opt-out that no guard matched (`decision.needs_confirmation`): the
  model alone never opts anyone out. Staff see "looks like an opt-out, please
  confirm"; nothing is sent and consent is unchanged until they do.
- A model decision below its intent's threshold (`decision.needs_review`):
  the staff inbox gets it with the model's guess and confidence; the patient
  gets at most the neutral holding reply.
"""

from __future__ import annotations

from bot.vocabulary import is_paging
from handlers.turn import Turn


def confirm_opt_out(turn: Turn) -> None:
    if is_paging(turn.decision.urgency):
        turn.escalate(turn.decision.urgency, turn.decision.guard_rule or "model_urgent")
    turn.to_staff("looks_like_opt_out_please_confirm")
    turn.actions.append("opt_out_unconfirmed")


def hold(turn: Turn) -> None:
    decision = turn.decision
    turn.to_staff(f"low_confidence:{decision.intent}:{decision.confidence:.2f}")
    if decision.intent != "other":
        turn.tell_a_person_replies("holding")
