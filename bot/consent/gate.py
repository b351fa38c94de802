"""The last check before a text leaves: who may be texted now, held steady while Twilio is called.

The rules of `refusal` are the ones every reply and touch already passed when it was written; the
gate asks them again at the moment of sending, because an opt-out, a staff takeover or a wrong-number
report can land between the two. On PostgreSQL the patient's row stays share-locked until the
provider has answered, so an opt-out that arrives meanwhile is recorded just after the text it could
no longer stop, and nothing queued before it can go out after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from bot import runtime
from bot.clock import to_utc
from bot.vocabulary import Intent, MessageKind, Urgency
from store.db import session_scope
from store.models import ConversationState, Patient, Practice

SAFETY_REPLIES = frozenset({Urgency.EMERGENCY, Urgency.URGENT, "opt_out", "opt_out_cancel"})
"""Replies that are never held back, by a staff takeover or anything else."""
HANDOVER_REPLIES = frozenset({"ask_for_person", "ask_for_person_hours"})
"""The reply that tells a patient who asked for a person when one will answer: it starts the takeover it
announces (handlers/ask_for_person.py), so that takeover does not hold it back."""

CARRIER_REPLIES = frozenset({"opt_out", "opt_out_cancel", "help"})
"""What carrier rules require us to answer whoever texts: the only replies a number not on file, or one
that told us it is the wrong person, ever gets (the wrong number also its one apology)."""

PAUSED = "bot_paused"
"""The refusal while the practice's kill switch is on."""

PAUSED_KINDS = frozenset({MessageKind.TOUCH, MessageKind.REPLY})
"""What the kill switch stops: the bot's own texts. Pages and staff's own texts are never switched off."""

UNPAUSABLE_REPLIES = SAFETY_REPLIES | CARRIER_REPLIES | {"opt_in"}
"""Replies that go while the kill switch is on: the emergency and urgent instructions, and what carrier
rules require (the one opt-out confirmation, HELP, the START confirmation)."""


def paused(session: Session, practice_id: int | None) -> bool:
    """Whether the practice's kill switch is on."""
    if practice_id is None:
        return False
    practice = session.get(Practice, practice_id)
    return practice is not None and practice.paused_at is not None


def refusal(
    session: Session,
    patient: Patient,
    now: datetime,
    *,
    kind: str,
    reply_kind: str | None = None,
    marketing: bool = False,
) -> str | None:
    """Why this patient must not get a text of this kind now, or None when it may go.

    Opted out: only the opt-out confirmation. A reported wrong number: only its apology and the
    carrier's replies (CARRIER_REPLIES). A staff
    takeover: staff's own texts and the safety replies only. Marketing needs marketing consent. The
    practice's kill switch on: no touch and no bot reply but UNPAUSABLE_REPLIES."""
    if patient.opted_out_at is not None and not (reply_kind or "").startswith("opt_out"):
        return "opted_out"
    if marketing and not patient.marketing_sms:
        return "no_marketing_consent"
    state = session.get(ConversationState, patient.id)
    if state is not None and state.wrong_number and reply_kind not in CARRIER_REPLIES | {Intent.WRONG_NUMBER}:
        return "wrong_number"
    taken_over = state is not None and state.takeover_until is not None and to_utc(state.takeover_until) > now
    if taken_over and kind != MessageKind.STAFF and reply_kind not in SAFETY_REPLIES | HANDOVER_REPLIES:
        return "staff_takeover"
    if kind in PAUSED_KINDS and reply_kind not in UNPAUSABLE_REPLIES and paused(session, patient.practice_id):
        return PAUSED
    return None


@dataclass
class Check:
    """The gate's answer, and the open transaction that keeps it true: write what the send returned in it."""

    refusal: str | None
    session: Session


@contextmanager
def held(
    patient_id: int | None,
    to_number: str,
    *,
    kind: str,
    reply_kind: str | None = None,
    marketing: bool = False,
) -> Iterator[Check]:
    """Why the text must not go (`refusal`, None when it may), kept true until the block ends.

    Send inside the block, and record the outcome in `session`: it commits when the block ends.
    Texts to anyone but the patient themselves (a page to staff about them) pass: the patient's
    consent is not the recipient's."""
    with session_scope(runtime.db_url()) as session:
        if patient_id is None:
            yield Check(None, session)
            return
        query = select(Patient).where(Patient.id == patient_id)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(read=True)
        patient = session.exec(query).first()
        if patient is None or patient.phone != to_number:
            yield Check(None, session)
            return
        now = runtime.clock().now()
        yield Check(refusal(session, patient, now, kind=kind, reply_kind=reply_kind, marketing=marketing), session)
