"""Replies Aftercare writes on its own: the texts per kind and language, and who may get one now."""

from __future__ import annotations

import tomllib
from datetime import datetime, timedelta
from functools import lru_cache
from importlib import resources

from sqlmodel import Session, col, select

from bot import runtime
from bot.clock import local_zone
from bot.consent.gate import CARRIER_REPLIES, PAUSED, refusal
from bot.conversation.open_hours import callback_window
from bot.touches import composer
from bot.vocabulary import Direction, MessageKind
from store.models import Appointment, Location, Message, Patient, Practice, Provider, Service
from store.queries import last_visit

REPLIES_FILE = resources.files("bot.conversation") / "replies.toml"
"""The texts Aftercare sends back on its own, per kind and language."""

REPEAT_WINDOW = timedelta(hours=12)
"""A courtesy reply of one kind goes to a patient at most once in this long."""

COURTESY_REPLIES = frozenset(
    {
        "side_effect",
        "rebook",
        "no_visit",
        "question",
        "thanks",
        "sorry",
        "defer",
        "help",
        "wrong_number",
        "slots_ask",
        "request_pending",
        "request_pending_closed",
        "request_pending_soon",
        "ask_for_person",
        "ask_for_person_hours",
        "ask_for_person_closed",
        "holding",
        "noted",
    }
)
"""Replies that say the same thing every time: at most one per kind per REPEAT_WINDOW. The others carry
something new each time (offered times, an answer, a check-back day) and always go. A text for staff after
its holding reply already went gets "noted" instead (`Turn.tell_a_person_replies`), once as well: then nothing
until the window passes."""

REPLY_PLACEHOLDERS = {
    "options": "1) Wed, Nov 25 10:30 AM with Dr. Katherine Lee; 2) Thu, Nov 26 12:30 PM with Dr. Katherine Lee; "
    "3) Fri, Nov 27 3:30 PM with Dr. Katherine Lee",
    "slot": "Wednesday, Nov 25 at 10:30 AM",
    "with_provider": "Dr. Katherine Lee",
    "when": "el miércoles 25 de noviembre",
    "code": "GA-MAXI7KQ2",
    "reward": "un regalo de nuestra parte en su próxima visita",
    "policy": " Our cancellation policy: Please give us 24 hours' notice to reschedule or cancel; late "
    "cancellations are charged $50.",
    "hours": "Lunes a viernes de 9:00 a 18:00, sábados de 10:00 a 14:00",
    "callback": "45 minutos",
    "reopens": "las 10:00 del miércoles",
    "answer": "Nuestra política de cancelación: Please give us 24 hours' notice to reschedule or cancel; late "
    "cancellations and no-shows are charged $50. Si necesitas algo más, responde aquí.",
}
"""Placeholders only replies use, with long sample values (tests render every reply with them)."""


@lru_cache(maxsize=1)
def replies() -> dict[str, dict[str, str]]:
    """Reply kind -> {language: template}, read once."""
    with REPLIES_FILE.open("rb") as handle:
        return tomllib.load(handle)


def compose(
    session: Session,
    patient: Patient | None,
    kind: str,
    appointment: Appointment | None = None,
    practice_id: int | None = None,
    templates: dict[str, str] | None = None,
    **values: str,
) -> str:
    """The `kind` reply for this patient, in their language, names and numbers filled in, about
    `appointment` (its service, provider, location and time as {slot}) or else their last visit.

    `templates` ({language: text}) stand in for replies.toml's (the practice's aftercare texts). A
    {callback} is the call-back window of the visit's location now (open hours or after hours).
    Without a patient (a number not on file), the reply is in English from the practice `practice_id`."""
    templates = templates or replies()[kind]
    if patient is None:
        context = composer.context_for(session.get(Practice, practice_id) if practice_id else None, None)
        return templates["en"].format_map({**context, **values})
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
    # The location they visited gives its numbers, address and review link.
    context = composer.context_for(practice, patient, service, provider, language, location)
    if provider is not None and appointment is not None:
        tz = local_zone(location, practice)
        context |= {"slot": composer.visit_time(appointment.start_at, tz, language), "with_provider": provider.name}
    if "{callback}" in templates[language] and "callback" not in values:
        settings = runtime.settings()
        context["callback"] = callback_window(
            session,
            practice,
            location,
            runtime.clock().now(),
            language,
            settings.callback_open_minutes,
            settings.callback_closed_minutes,
        )
    return templates[language].format_map({**context, **values})


def may_reply(session: Session, patient: Patient | None, kind: str, now: datetime) -> bool:
    """Whether the `kind` reply may go to this patient now.

    A number not on file, or one that told us it is the wrong person, gets only CARRIER_REPLIES (and
    the wrong number its one apology); an opted-out patient only the opt-out confirmation; only safety
    replies go while staff have taken over the conversation; courtesy replies at most once per
    REPEAT_WINDOW."""
    if patient is None:
        return kind in CARRIER_REPLIES
    refused = refusal(session, patient, now, kind=MessageKind.REPLY, reply_kind=kind)
    # The kill switch holds a reply at the outbox, where staff find it to approve or discard: written, not lost.
    if refused is not None and refused != PAUSED:
        return False
    if kind in COURTESY_REPLIES:
        return (
            session.exec(
                select(Message.id).where(
                    col(Message.patient_id) == patient.id,
                    col(Message.direction) == Direction.OUT,
                    col(Message.kind) == MessageKind.REPLY,
                    col(Message.reply_kind) == kind,
                    col(Message.created_at) > now - REPEAT_WINDOW,
                )
            ).first()
            is None
        )
    return True
