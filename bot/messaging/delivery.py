"""Delivery status from Twilio: recorded without ever moving backwards, error codes acted on."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot import runtime
from bot.consent.opt_out import opt_out
from bot.messaging.phones import mask
from store.db import session_scope
from store.models import AuditEvent, Message, Patient
from store.queries import cancel_pending_touches

log = logging.getLogger(__name__)

STATUS_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "receiving": 3,
    "received": 4,
    "delivered": 5,
    "undelivered": 5,
    "failed": 5,
    "partially_delivered": 5,
    "canceled": 5,
    "read": 6,
}
"""Order of Twilio statuses: callbacks arrive out of order, a status only moves forward."""

FINAL_OPT_OUT_CODES = {21610}
"""The carrier says the recipient unsubscribed: mark the patient opted out."""

BAD_NUMBER_CODES = {21211, 21614}
"""Invalid or not-mobile number: flag it at once."""

UNREACHABLE_CODES = {30003, 30005, 30006}
"""Handset or carrier unreachable: flag the number after repeated failures."""

UNREACHABLE_LIMIT = 3
"""Undelivered texts in a row before a number is flagged."""

FILTERED_CODE = 30007
"""Carrier filtering: a content or registration problem the manager must see."""

STALE_AFTER = timedelta(hours=2)
"""A text still not final after this long is fetched from the API (callbacks may be lost)."""


def record_status(sid: str, status: str, error_code: str | int | None = None) -> bool:
    """Move a message's status forward; act on its error code. False for an unknown SID or a stale status."""
    code = int(error_code) if str(error_code or "").isdigit() else None
    with session_scope(runtime.db_url()) as session:
        message = session.exec(select(Message).where(Message.twilio_sid == sid)).first()
        if message is None:
            return False
        if STATUS_RANK.get(status, -1) < STATUS_RANK.get(message.status or "", -1):
            return False
        changed = session.exec(
            update(Message)
            .where(
                Message.id == message.id, Message.status == message.status if message.status else Message.status == None
            )
            .values(status=status, error_code=code if code else message.error_code, status_at=runtime.clock().now())
        ).rowcount
        if not changed:
            return False
        if code and message.patient_id and message.kind != "alert":
            act_on_error(session, message, code)
        elif status == "delivered" and message.patient_id and message.kind != "alert":
            patient = session.get(Patient, message.patient_id)
            if patient and patient.undelivered_count:
                patient.undelivered_count = 0
                session.add(patient)
        return True


def act_on_error(session: Session, message: Message, code: int) -> None:
    """What a Twilio error code means for the patient's number."""

    patient = session.get(Patient, message.patient_id)
    if patient is None:
        return
    now = runtime.clock().now()
    if code in FINAL_OPT_OUT_CODES:
        opt_out(session, patient, source=f"carrier:{code}", message_id=message.id)
    elif code in BAD_NUMBER_CODES or code in UNREACHABLE_CODES:
        patient.undelivered_count += 1
        if code in BAD_NUMBER_CODES or patient.undelivered_count >= UNREACHABLE_LIMIT:
            if patient.flagged_at is None:
                patient.flagged_at = now
                patient.flag_reason = f"twilio {code}"
                cancel_pending_touches(session, patient.id, reason=f"number_flagged:{code}")
                log.warning("number %s flagged after error %s", mask(patient.phone), code)
        session.add(patient)
    elif code == FILTERED_CODE:
        session.add(
            AuditEvent(
                practice_id=patient.practice_id,
                actor="system",
                action="carrier_filtering",
                subject_type="message",
                subject_id=message.id,
                detail={"code": code},
                created_at=now,
            )
        )
        log.error("carrier filtered message %s (30007): check content and registration", message.id)


def stale_sids(session: Session, limit: int = 200) -> list[str]:
    """Outbound SIDs whose status is not final long after sending."""
    cutoff = runtime.clock().now() - STALE_AFTER
    return list(
        session.exec(
            select(Message.twilio_sid)
            .where(
                Message.direction == "out",
                col(Message.twilio_sid).is_not(None),
                col(Message.status).in_(("accepted", "queued", "sending", "sent")),
                Message.created_at < cutoff,
            )
            .limit(limit)
        )
    )


def reconcile_stale(transport) -> int:
    """Fetch stale messages from the API and record what it says (job)."""
    with session_scope(runtime.db_url()) as session:
        sids = stale_sids(session)
    updated = 0
    for sid in sids:
        try:
            found = transport.fetch(sid)
        except Exception as exc:  # one bad fetch must not stop the rest
            log.warning("status fetch for %s failed: %s", sid, exc)
            continue
        updated += record_status(sid, found["status"], found.get("error_code"))
    return updated
