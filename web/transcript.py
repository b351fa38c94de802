"""What staff read of a conversation, shared by the dashboard and the simulator: a patient's thread,
the number they text, a decision in words, and times as staff see them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, union
from sqlmodel import Session, col, select

from bot import runtime
from bot.clock import to_utc
from bot.vocabulary import ESCALATION_URGENCIES, MessageKind, Urgency
from store.models import Appointment, Location, Message, Patient, Practice

URGENCY_ORDER = {urgency.value: Urgency.EMERGENCY.rank - urgency.rank for urgency in ESCALATION_URGENCIES}
"""Open escalations are listed most urgent first (emergency 0, urgent 1, routine 2)."""

TIME_FORMAT = "%b %-d, %-I:%M %p"
"""How a time is shown to staff, in the practice's zone: "Nov 23, 10:04 AM"."""


def practice_numbers(practice_id: int):
    """The numbers a practice texts from and is texted at: its locations' and its own."""
    return union(
        select(Location.sms_number).where(Location.practice_id == practice_id, col(Location.sms_number).is_not(None)),
        select(Practice.phone).where(Practice.id == practice_id, col(Practice.phone).is_not(None)),
    )


def thread_query(patient: Patient):
    """A patient's texts in and out; inbound ones count before the worker has linked them to the patient,
    when they were sent to one of the patient's practice's numbers (never another practice's texts)."""
    numbers = practice_numbers(patient.practice_id)
    return select(Message).where(
        Message.kind != MessageKind.PAGE,
        or_(
            Message.patient_id == patient.id,
            (col(Message.patient_id).is_(None))
            & (
                ((Message.from_number == patient.phone) & col(Message.to_number).in_(numbers))
                | ((Message.to_number == patient.phone) & col(Message.from_number).in_(numbers))
            ),
        ),
    )


def practice_number(db: Session, patient: Patient) -> str | None:
    """The number this patient texts: the one they last wrote to, else their last location's, else the practice's."""
    last_in = db.exec(thread_query(patient).where(Message.direction == "in").order_by(col(Message.id).desc())).first()
    if last_in is not None:
        return last_in.to_number
    number = db.exec(
        select(Location.sms_number)
        .join(Appointment, Appointment.location_id == Location.id)
        .where(Appointment.patient_id == patient.id, col(Location.sms_number).is_not(None))
        .order_by(col(Appointment.start_at).desc())
    ).first()
    if number:
        return number
    practice = db.get(Practice, patient.practice_id)
    return (practice.phone if practice else None) or runtime.settings().twilio_from_number


def ago(moment: datetime | None, now: datetime) -> str:
    """'3 min', '2 h', '5 d': how long ago, short."""
    if moment is None:
        return ""
    seconds = max(0, int((now - to_utc(moment)).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} d ago"


def reason_text(reason: str | None) -> str:
    """'redflag:vascular_occlusion' as 'red flag: vascular occlusion', 'needs_reply:question' as
    'needs reply: question'."""
    return (reason or "").replace("redflag:", "red flag: ").replace(":", ": ").replace(":  ", ": ").replace("_", " ")


def decision_view(decision: dict | None) -> dict | None:
    """The parts of a stored decision a person reads: what, how sure, why, and which path decided."""
    if not decision:
        return None
    guard = decision.get("guard") or {}
    view = {
        "intent": decision.get("intent") or guard.get("intent"),
        "urgency": decision.get("urgency") or guard.get("urgency"),
        "path": decision.get("path") or ("guard" if guard else None),
        "confidence": decision.get("confidence"),
        "rationale": decision.get("rationale"),
        "guard": guard.get("rule") or decision.get("guard_rule"),
        "fallback": decision.get("fallback_reason"),
        "actions": decision.get("actions") or ([decision["action"]] if decision.get("action") else []),
        "handler": decision.get("handler"),
    }
    return view if any(v for v in view.values()) else None
