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
        "prompt_version": decision.get("prompt_version"),
    }
    if not any(v for v in view.values()):
        return None
    view["plain"] = read_as(view)
    view["did"] = [did_words(a) for a in view["actions"] if isinstance(a, str)]
    return view


INTENT_WORDS = {
    "side_effect_concern": "side effect",
    "rebook_request": "wants to book",
    "reschedule_or_cancel": "move or cancel a visit",
    "defer": "not now",
    "referral": "referral",
    "opt_out": "opt-out",
    "opt_in": "opt back in",
    "help": "asks for help",
    "question": "question",
    "positive_feedback": "praise",
    "negative_feedback": "complaint",
    "wrong_number": "wrong number",
    "other": "nothing to act on",
    "ask_for_person": "wants a person",
}
"""Intents as staff say them."""

PATH_WORDS = {
    "llm": "by the language model",
    "local": "by the local classifier",
    "guard": "by a fixed rule",
}


def _rule_words(rule: str) -> str:
    """'redflag:vascular_occlusion' as 'the red-flag rule for vascular occlusion', 'keyword:stop' as
    'the carrier keyword STOP'."""
    kind, _, name = rule.partition(":")
    words = name.replace("_", " ")
    if kind.startswith("freetext_opt_out+redflag"):
        return f"the opt-out wording and the red-flag rule for {words}"
    return {
        "redflag": f"the red-flag rule for {words}",
        "keyword": f"the carrier keyword {name.upper()}",
        "keyword_es": f"the Spanish opt-out keyword {words.upper()}",
        "keyword_typo": f"the carrier keyword {name.upper()} (misspelt)",
        "not_a_reply": f"the rule for texts that need no answer ({words})",
        "freetext_opt_out": "the rule for opt-outs in plain words",
        "ask_for_person": "the rule for asking for a person",
    }.get(kind, rule.replace("_", " "))


def read_as(view: dict) -> str:
    """A decision in one sentence a person reads: 'Read as: side effect, emergency, by the red-flag rule
    for vascular occlusion.'"""
    parts = []
    if view.get("intent"):
        parts.append(INTENT_WORDS.get(view["intent"], view["intent"].replace("_", " ")))
    if view.get("urgency") and view["urgency"] != "none":
        parts.append(view["urgency"])
    how = ""
    if view.get("guard"):
        how = "by " + _rule_words(view["guard"])
    elif view.get("path"):
        how = PATH_WORDS.get(view["path"], f"by {view['path']}")
        if view.get("confidence") is not None:
            how += f", {round(view['confidence'] * 100)}% sure"
    if how:
        parts.append(how)
    sentence = "Read as: " + ", ".join(parts) + "." if parts else "Not read yet."
    if view.get("fallback"):
        sentence += f" (The language model was not used: {view['fallback'].replace('_', ' ')}.)"
    return sentence


ACTION_WORDS = {
    "staff_inbox": "put in the staff inbox",
    "staff_inbox:complaint": "put in the inbox as a complaint",
    "managers_alerted": "told the managers",
    "opted_out": "stopped all texts",
    "opted_in": "resumed care texts",
    "takeover": "held: staff have the conversation",
    "wrong_number": "stopped texts to this number",
    "review_brought_forward": "brought the review request forward",
    "review_skipped": "skipped the review request",
    "referral_code": "sent the referral code",
}


def did_words(action: str) -> str:
    """What the bot did, in words: 'escalation:emergency' as 'opened an emergency escalation'."""
    if action in ACTION_WORDS:
        return ACTION_WORDS[action]
    kind, _, rest = action.partition(":")
    return {
        "escalation": f"opened an {rest} escalation" if rest[:1] in "aeiou" else f"opened a {rest} escalation",
        "reply": f"replied ({rest.replace('_', ' ')})",
        "draft": f"wrote a draft for staff to approve ({rest.replace('_', ' ')})",
        "off": f"did not answer: switched off for this intent ({rest.replace('_', ' ')})",
        "answered": f"answered from the practice's facts ({rest.replace('_', ' ')})",
        "offered_slots": f"offered {rest} open times",
        "check_back": f"set a check-back for {rest}",
        "touches_stopped": f"stopped {rest} planned texts",
        "acknowledged": f"took page #{rest}",
        "asked_to_cancel": "asked to confirm the cancellation",
    }.get(kind, action.replace("_", " ").replace(":", ": "))
