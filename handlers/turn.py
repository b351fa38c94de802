"""The one object every handler works on: the inbound text, who sent it, the decision, and what to do next."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from sqlmodel import Session, col, select

from bot import composer, outbox
from bot.clock import to_utc
from bot.inbound import open_escalation
from store.models import (Appointment, ConversationState, Escalation, Location, Message, Patient, Practice, Provider,
                          Service)
from store.queries import last_visit

REPLIES_FILE = Path(__file__).resolve().parent / "replies.toml"
"""The texts Aftercare sends back on its own, per kind and language."""

ESCALATING = ("urgent", "emergency")
"""Urgencies that page staff (bot.paging) and get a safety reply."""

REPEAT_WINDOW = timedelta(hours=12)
"""A courtesy reply of one kind goes to a patient at most once in this long."""

SAFETY_REPLIES = frozenset({"emergency", "urgent", "opt_out", "opt_out_cancel"})
"""Replies that are never held back, by a staff takeover or anything else."""

COURTESY_REPLIES = frozenset({"side_effect", "rebook", "reschedule", "question", "thanks", "sorry", "defer", "help",
                              "opt_in", "wrong_number"})
"""Replies that say the same thing every time: at most one per kind per REPEAT_WINDOW. The others carry
something new each time (offered times, an answer, a check-back day) and always go."""

REPLY_PLACEHOLDERS = {
    "options": "1) Wed, Nov 25 10:30 AM with Dr. Katherine Lee; 2) Thu, Nov 26 12:30 PM with Dr. Katherine Lee; "
               "3) Fri, Nov 27 3:30 PM with Dr. Katherine Lee",
    "slot": "Wednesday, Nov 25 at 10:30 AM",
    "with_provider": "Dr. Katherine Lee",
    "when": "el miércoles 25 de noviembre",
    "code": "GA-MAXI7KQ2",
    "reward": "un regalo de nuestra parte en su proxima visita",
    "answer": "Nuestra politica de cancelacion: Please give us 24 hours' notice to reschedule or cancel; late "
              "cancellations and no-shows are charged $50. Si necesitas algo mas, responde aqui.",
}
"""Placeholders only replies use, with long sample values (tests render every reply with them)."""


@lru_cache(maxsize=1)
def replies() -> dict[str, dict[str, str]]:
    """Reply kind -> {language: template}, read once."""
    with open(REPLIES_FILE, "rb") as handle:
        return tomllib.load(handle)


def compose(session: Session, patient: Patient, kind: str, appointment: Appointment | None = None,
            **values: str) -> str:
    """The `kind` reply for this patient, in their language, names and numbers filled in, about
    `appointment` (its service, provider, location and time as {slot}) or else their last visit."""
    templates = replies()[kind]
    language = patient.language if patient.language in templates else "en"
    practice = session.get(Practice, patient.practice_id)
    provider = None
    if appointment is not None:
        service = session.get(Service, appointment.service_id)
        provider = session.get(Provider, appointment.provider_id) if appointment.provider_id else None
    else:
        visit = last_visit(session, patient.id)
        appointment, service = visit if visit else (None, None)
    location = session.get(Location, appointment.location_id) if appointment and appointment.location_id else None
    # The location they visited gives the number to call; the practice's emergency line stays the same.
    context = composer.context_for(practice, patient, service, provider, language, location)
    if provider is not None:
        tz = (location.timezone if location and location.timezone else None) or practice.timezone or "UTC"
        context |= {"slot": composer.visit_time(appointment.start_at, tz, language), "with_provider": provider.name}
    return templates[language].format_map({**context, **values})


def may_reply(session: Session, patient: Patient | None, kind: str, now: datetime) -> bool:
    """Whether the `kind` reply may go to this patient now.

    Never to an unknown number, a wrong number or an opted-out patient (except the opt-out
    confirmation itself); only safety replies while staff have taken over the conversation;
    courtesy replies at most once per REPEAT_WINDOW."""
    if patient is None:
        return False
    if patient.opted_out_at is not None and not kind.startswith("opt_out"):
        return False
    state = session.get(ConversationState, patient.id)
    if state is not None and state.wrong_number and kind != "wrong_number":
        return False
    if kind not in SAFETY_REPLIES and state is not None and state.takeover_until and to_utc(state.takeover_until) > now:
        return False
    if kind in COURTESY_REPLIES:
        return session.exec(select(Message.id).where(
            Message.patient_id == patient.id, Message.direction == "out", Message.kind == "reply",
            col(Message.idempotency_key).like(f"reply-%-{kind}"), Message.created_at > now - REPEAT_WINDOW)).first() is None
    return True


@dataclass
class Turn:
    """One inbound text being handled; handlers append to `actions` what they did."""

    session: Session
    message: Message
    patient: Patient | None
    decision: object  # bot.classifier.Decision
    now: datetime
    settings: object
    actions: list[str] = field(default_factory=list)
    outbound: list[int] = field(default_factory=list)
    """Rows queued in this turn, delivered after the commit."""
    pages: list[int] = field(default_factory=list)
    """Escalations to page after the commit."""
    handler: str | None = None
    """Which handler ran ("side_effect.handle"), stored with the decision."""

    # ------------------------------------------------------------ escalation

    def escalate(self, urgency: str, reason: str) -> Escalation:
        """Open (or raise) this message's escalation; urgent and emergency ones are paged after the commit."""
        escalation = open_escalation(self.session, self.message.id, self.patient, urgency, reason)
        self.actions.append(f"escalation:{escalation.urgency}")
        if escalation.urgency in ESCALATING and escalation.id not in self.pages:
            self.pages.append(escalation.id)
        return escalation

    def to_staff(self, why: str) -> bool:
        """Put the conversation in the staff inbox as a routine item (one open item per patient)."""
        if self.patient is None:
            return False
        open_item = self.session.exec(select(Escalation.id).where(Escalation.patient_id == self.patient.id,
                                                                  Escalation.status != "resolved")).first()
        if open_item is not None:
            return False
        open_escalation(self.session, self.message.id, self.patient, "routine", f"needs_reply:{why}")
        self.actions.append("staff_inbox")
        return True

    def state(self) -> ConversationState | None:
        if self.patient is None:
            return None
        found = self.session.get(ConversationState, self.patient.id)
        if found is None:
            found = ConversationState(patient_id=self.patient.id)
            self.session.add(found)
        return found

    # ----------------------------------------------------------------- reply

    def language(self) -> str:
        """The language the patient is texted in."""
        return self.patient.language if self.patient is not None and self.patient.language in ("en", "es") else "en"

    def reply(self, kind: str, appointment: Appointment | None = None, **values: str) -> Message | None:
        """Queue the `kind` reply to the sender, in the patient's language; None when it must not go.

        `values` fill a reply's own placeholders ({options}, {when}, {code}, {reward}, {answer}) beside the
        plans' ones; an `appointment` gives {slot} and {with_provider}; `may_reply` says who may get what.
        """
        patient = self.patient
        if not may_reply(self.session, patient, kind, self.now):
            return None
        body = compose(self.session, patient, kind, appointment=appointment, **values)
        row = outbox.queue_text(self.session, key=f"reply-{self.message.id}-{kind}", to=self.message.from_number,
                                from_=self.message.to_number, body=body, kind="reply", practice_id=patient.practice_id,
                                patient_id=patient.id, now=self.now)
        if row is not None:
            self.outbound.append(row.id)
            self.actions.append(f"reply:{kind}")
            self.state().last_outbound_at = self.now
        return row
