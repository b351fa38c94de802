"""Delivery status from Twilio: recorded without ever moving backwards, error codes acted on."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from bot import runtime
from bot.messaging import carrier_errors
from bot.vocabulary import Direction, MessageKind
from store.db import retry_on_disconnect, session_scope
from store.models import EarlyStatus, Message, Patient

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

EARLY_KEPT_FOR = timedelta(days=1)
"""A held callback whose SID never lands (not ours, or its send's record was lost) is dropped after this."""

STALE_AFTER = timedelta(hours=2)
"""A text still not final after this long is fetched from the API (callbacks may be lost)."""


MAX_ERROR_CODE = 2**31 - 1
"""The largest error code stored (a 32-bit integer column on PostgreSQL)."""


def record_status(sid: str, status: str, error_code: str | int | None = None) -> bool:
    """Move a message's status forward; act on its error code. False for a stale status, or a SID not
    stored yet (its send is still writing it): that status is kept and applied when the SID lands."""
    code = int(str(error_code)) if str(error_code or "").isdigit() else None
    if code is not None and code > MAX_ERROR_CODE:
        code = None  # Twilio's codes are five digits; a larger "code" is no error we know, and fits no column

    def record() -> bool:
        with session_scope(runtime.db_url()) as session:
            if session.exec(select(Message.id).where(Message.twilio_sid == sid)).first() is None:
                _keep_early(session, sid, status, code)
                return False
            return _apply(session, sid, status, code)

    return retry_on_disconnect(record)  # a callback lost to a database restart is not sent again


def _apply(session: Session, sid: str, status: str, code: int | None) -> bool:
    """Move the stored message's status forward and act on its error code, in `session`."""
    message = session.exec(select(Message).where(Message.twilio_sid == sid)).first()
    if message is None:
        return False
    if STATUS_RANK.get(status, -1) < STATUS_RANK.get(message.status or "", -1):
        return False
    changed = session.exec(
        update(Message)
        .where(
            col(Message.id) == message.id,
            col(Message.status) == message.status if message.status else col(Message.status).is_(None),
        )
        .values(status=status, error_code=code if code else message.error_code, status_at=runtime.clock().now())
    ).rowcount
    if not changed:
        return False
    if code and message.patient_id and message.kind != MessageKind.PAGE:
        act_on_error(session, message, code)
    elif status == "delivered" and message.patient_id and message.kind != MessageKind.PAGE:
        patient = session.get(Patient, message.patient_id)
        if patient and patient.undelivered_count:
            patient.undelivered_count = 0
            session.add(patient)
    return True


def _keep_early(session: Session, sid: str, status: str, code: int | None) -> None:
    """Hold a callback that beat its SID, keeping the furthest status (callbacks come out of order)."""
    held = session.get(EarlyStatus, sid)
    if held is None:
        session.add(EarlyStatus(sid=sid, status=status, error_code=code, received_at=runtime.clock().now()))
    elif STATUS_RANK.get(status, -1) >= STATUS_RANK.get(held.status, -1):
        held.status, held.error_code = status, code or held.error_code
        session.add(held)


def apply_early(session: Session, sid: str) -> bool:
    """Apply the callback held for a SID that has just been stored (same transaction); True if one was."""
    return apply_early_many(session, [sid]) == 1


def apply_early_many(session: Session, sids: list[str]) -> int:
    """Apply the callbacks held for SIDs that have just been stored (same transaction), in one look-up
    whatever their number (a send batch records ten at a time); returns how many were held."""
    if not sids:
        return 0
    held = session.exec(select(EarlyStatus).where(col(EarlyStatus.sid).in_(sids))).all()
    for row in held:
        session.delete(row)
    session.flush()
    for row in held:
        _apply(session, row.sid, row.status, row.error_code)
    return len(held)


def apply_early_statuses(limit: int = 500) -> int:
    """Apply held callbacks whose SID has landed since; forget those no send claims within a day."""
    applied = 0
    with session_scope(runtime.db_url()) as session:
        sids = list(
            session.exec(select(EarlyStatus.sid).join(Message, col(Message.twilio_sid) == EarlyStatus.sid).limit(limit))
        )
        for sid in sids:
            applied += apply_early(session, sid)
        session.exec(delete(EarlyStatus).where(col(EarlyStatus.received_at) < runtime.clock().now() - EARLY_KEPT_FOR))
    return applied


def act_on_error(session: Session, message: Message, code: int) -> None:
    """What a Twilio error code in a status callback means for the patient's number (carrier_errors decides)."""
    patient = session.get(Patient, message.patient_id)
    if patient is not None:
        carrier_errors.act_on(session, patient, code, message.id, runtime.clock().now())


def stale_sids(session: Session, limit: int = 200) -> list[str]:
    """Outbound SIDs whose status is not final long after sending."""
    cutoff = runtime.clock().now() - STALE_AFTER
    return [
        sid
        for sid in session.exec(
            select(col(Message.twilio_sid))
            .where(
                Message.direction == Direction.OUT,
                col(Message.twilio_sid).is_not(None),
                col(Message.status).in_(("accepted", "queued", "sending", "sent")),
                Message.created_at < cutoff,
            )
            .limit(limit)
        )
        if sid is not None
    ]


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
