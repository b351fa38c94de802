"""Twilio error codes, each named once, and the one place that decides what a code means for a patient's number.

A code arrives two ways: in Twilio's refusal of a send (the touch path) and in a
delivery status callback (or a status fetched later). Both call `act_on`, so
the same code always has the same effect.
"""

from __future__ import annotations

import logging
from datetime import datetime
from enum import Enum

from sqlmodel import Session

from bot.consent.opt_out import opt_out
from bot.messaging.phones import mask
from store.models import AuditEvent, Patient
from store.queries import cancel_pending_touches

log = logging.getLogger(__name__)

INVALID_NUMBER = 21211
"""The 'To' number is not a valid phone number."""
NOT_MOBILE = 21614
"""The 'To' number is not a mobile number (a landline cannot get texts)."""
UNSUBSCRIBED = 21610
"""The recipient texted STOP to this sender: the carrier blocks every text until they opt back in."""
UNREACHABLE = 30003
"""The handset is off or out of coverage."""
UNKNOWN_DESTINATION = 30005
"""The number does not exist or is no longer in service."""
LANDLINE_OR_UNREACHABLE_CARRIER = 30006
"""The carrier cannot deliver to this number (a landline, or a carrier that refuses texts)."""
CARRIER_FILTERED = 30007
"""The carrier filtered the text as spam: a content or registration problem the manager must see."""

UNREACHABLE_LIMIT = 3
"""Undelivered texts in a row before an unreachable number is flagged."""


class Reaction(Enum):
    """What Aftercare does about an error code."""

    OPT_OUT = "opt_out"
    """The carrier says the patient unsubscribed: record the opt-out."""
    FLAG_NUMBER = "flag_number"
    """The number can never get texts: flag it at once and cancel pending touches."""
    COUNT_UNDELIVERED = "count_undelivered"
    """Maybe temporary: count it, and flag the number after UNREACHABLE_LIMIT in a row."""
    TELL_MANAGER = "tell_manager"
    """Carrier filtering: an audit event and an error log for the manager."""
    NOTHING = "nothing"
    """Any other code: recorded on the message, nothing more."""


REACTIONS = {
    UNSUBSCRIBED: Reaction.OPT_OUT,
    INVALID_NUMBER: Reaction.FLAG_NUMBER,
    NOT_MOBILE: Reaction.FLAG_NUMBER,
    UNREACHABLE: Reaction.COUNT_UNDELIVERED,
    UNKNOWN_DESTINATION: Reaction.COUNT_UNDELIVERED,
    LANDLINE_OR_UNREACHABLE_CARRIER: Reaction.COUNT_UNDELIVERED,
    CARRIER_FILTERED: Reaction.TELL_MANAGER,
}
"""Error code -> what to do about it."""


def reaction(code: int | None) -> Reaction:
    """What to do about a Twilio error code."""
    return REACTIONS.get(code, Reaction.NOTHING) if code is not None else Reaction.NOTHING


def act_on(session: Session, patient: Patient, code: int, message_id: int | None, now: datetime) -> Reaction:
    """Do what a Twilio error code on a text to `patient` calls for; returns what was done."""
    what = reaction(code)
    if what is Reaction.OPT_OUT:
        opt_out(session, patient, source=f"carrier:{code}", message_id=message_id)
    elif what in (Reaction.FLAG_NUMBER, Reaction.COUNT_UNDELIVERED):
        patient.undelivered_count += 1
        session.add(patient)
        if what is Reaction.FLAG_NUMBER or patient.undelivered_count >= UNREACHABLE_LIMIT:
            _flag(session, patient, code, now)
    elif what is Reaction.TELL_MANAGER:
        session.add(
            AuditEvent(
                practice_id=patient.practice_id,
                actor="system",
                action="carrier_filtering",
                subject_type="message",
                subject_id=message_id,
                detail={"code": code},
                created_at=now,
            )
        )
        log.error("carrier filtered message %s (%s): check content and registration", message_id, code)
    return what


def _flag(session: Session, patient: Patient, code: int, now: datetime) -> None:
    if patient.flagged_at is not None:
        return
    patient.flagged_at, patient.flag_reason = now, f"twilio {code}"
    session.add(patient)
    cancel_pending_touches(session, patient.id, reason=f"number_flagged:{code}")
    log.warning("number %s flagged after error %s", mask(patient.phone), code)
