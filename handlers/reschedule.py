"""Moving or cancelling an upcoming visit by text.

- "Can I move my appointment to Friday?": open times with the same service and provider (else a
  colleague who does that treatment), as handlers/rebook.py offers them; a pick moves the visit
  (direct mode) or asks the front desk to (request mode: the old time stays the patient's until
  they confirm). The reminders follow the visit; staff get an inbox item.
- "I need to cancel my appointment": first "Reply YES to cancel your Lip filler on Thursday, Dec 3 at
  2:00 PM", with the practice's cancellation policy when the visit is less than a day away; YES cancels
  it (its time is free, its reminders dropped) and staff get an inbox item; "no" keeps it.
  A bare CANCEL never gets here: it is the carrier's opt-out keyword (bot.understanding.guards).
- No upcoming visit on record: the patient is told so; a move is offered open times to book instead (a
  cancel is not), and staff get an inbox item.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.booking import picks, visits
from bot.clock import to_utc
from bot.conversation.escalations import open_escalation
from handlers import rebook
from handlers.turn import Turn
from store.models import Appointment, Practice, Service

CONFIRM_VALID = timedelta(hours=24)
"""How long a "reply YES to cancel" question can be answered."""


def handle(turn: Turn) -> None:
    if turn.patient is None:
        return
    if rebook.picks_offered_time(turn):
        rebook.handle(turn)  # "actually, can I switch to the thursday one?": a pick among the times offered
        return
    found = visits.upcoming_visit(turn.session, turn.patient.id, turn.now)
    wish = picks.cancel_or_move(turn.message.body)
    if found is None:
        # Nothing to move or cancel: say so; a move is offered open times to book instead. Staff see it.
        turn.to_staff("reschedule_no_visit")
        if wish == "cancel":
            turn.tell_a_person_replies("no_visit")
        else:
            rebook.offer(turn, kind="no_visit_slots", fallback="no_visit")
        return
    visit, _service = found
    if wish == "cancel":
        _ask_to_cancel(turn, visit)
        return
    rebook.offer(turn, moving=visit.id)


def awaiting_answer(turn: Turn) -> bool:
    """Whether this text answers our "reply YES to cancel" question (a bare yes or no)."""
    if turn.patient is None or turn.patient.opted_out_at is not None:
        return False
    pending = _pending_cancel(turn)
    return pending is not None and (picks.says_yes(turn.message.body) or picks.says_no(turn.message.body))


def answer(turn: Turn) -> None:
    """YES cancels the visit asked about; no keeps it."""
    pending = _pending_cancel(turn)
    if pending is None:  # routed here only when awaiting_answer found the question open
        turn.actions.append("nothing_to_cancel")
        return
    visit = turn.session.get(Appointment, pending["appointment_id"])
    turn.patient_state().pending = None
    if visit is None or visit.status not in visits.UPCOMING_STATUSES:
        turn.actions.append("nothing_to_cancel")
        return
    if not picks.says_yes(turn.message.body):
        turn.actions.append("cancel_declined")
        turn.reply("cancel_kept", appointment=visit)
        return
    late = visits.is_late(visit, turn.now)
    visits.cancel(turn.session, visit, turn.now, reason="cancelled_by_text")
    service = turn.session.get_one(Service, visit.service_id)
    item = open_escalation(turn.session, turn.message.id, turn.patient, "routine", "visit_cancelled")
    when = rebook.describe(visit.start_at, pending.get("tz") or "UTC", "en")
    item.note = (
        f"Cancelled by text: {when}, {service.name}{' (late cancel)' if late else ''}. Update the practice system."
    )
    turn.session.add(item)
    turn.actions += [f"cancelled_appointment:{visit.id}", "staff_inbox"]
    turn.reply("cancelled", appointment=visit, policy=_policy(turn) if late else "")


def _ask_to_cancel(turn: Turn, visit: Appointment) -> None:
    late = visits.is_late(visit, turn.now)
    if turn.reply("cancel_confirm", appointment=visit, policy=_policy(turn) if late else "") is None:
        turn.to_staff("reschedule_or_cancel")
        return
    practice = turn.session.get_one(Practice, turn.known_patient().practice_id)
    turn.patient_state().pending = {
        "kind": "cancel",
        "appointment_id": visit.id,
        "asked_at": turn.now.isoformat(),
        "message_id": turn.message.id,
        "tz": practice.timezone or "UTC",
    }
    turn.actions.append(f"asked_to_cancel:{visit.id}")


def _pending_cancel(turn: Turn) -> dict | None:
    state = turn.state()
    pending = state.pending if state is not None and state.pending else None
    if not pending or pending.get("kind") != "cancel":
        return None
    try:
        asked = to_utc(datetime.fromisoformat(pending["asked_at"]))
    except (KeyError, TypeError, ValueError):
        return None
    return pending if turn.now - asked <= CONFIRM_VALID else None


def _policy(turn: Turn) -> str:
    """The practice's cancellation policy, from its facts, as a sentence to append (or nothing)."""
    facts = turn.session.get_one(Practice, turn.known_patient().practice_id).facts or {}
    policy = facts.get("cancellation_policy")
    if isinstance(policy, dict):
        policy = policy.get(turn.language()) or policy.get("en")
    if not policy:
        return ""
    label = "Nuestra política de cancelación" if turn.language() == "es" else "Our cancellation policy"
    return f" {label}: {policy.strip()}"
