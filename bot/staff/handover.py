"""A patient who asked for a person and whom nobody has answered: staff are texted, during open hours.

The handover (handlers/ask_for_person.py) puts the conversation in the inbox at once. When nobody has
picked it up (acknowledged or resolved it, or texted the patient from the dashboard) within
AFTERCARE_HANDOVER_NUDGE_MINUTES, while the visited location is open, the on-call staff (the managers
when nobody is on call) get one text about it. Outside open hours nothing is sent: the patient was told
when the practice opens, and the nudge goes when it does.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import col, select, update

from bot import runtime
from bot.clock import to_utc
from bot.conversation.open_hours import is_open
from bot.messaging import outbox
from bot.staff.paging import recipients
from bot.vocabulary import EscalationStatus, MessageKind
from store.db import session_scope
from store.models import Escalation, Location, Message, Patient, Practice
from store.queries import last_visit

log = logging.getLogger(__name__)

HANDOVER_REASON = "needs_reply:ask_for_person"
"""The inbox item a patient's ask for a person opens."""


def sweep(now: datetime | None = None) -> int:
    """Text staff about handovers nobody picked up in time, once each, while open (every tick); how many texts."""
    now = to_utc(now or runtime.clock().now())
    after = timedelta(minutes=runtime.settings().handover_nudge_minutes)
    written: list[int] = []
    with session_scope(runtime.db_url()) as session:
        waiting = session.exec(
            select(Escalation).where(
                Escalation.reason == HANDOVER_REASON,
                Escalation.status == EscalationStatus.OPEN,
                col(Escalation.paged_at).is_(None),
                col(Escalation.patient_id).is_not(None),
                Escalation.created_at <= now - after,
            )
        ).all()
        for item in waiting:
            patient = session.get(Patient, item.patient_id)
            if patient is None:
                continue
            answered = session.exec(
                select(Message.id).where(
                    Message.patient_id == patient.id,
                    Message.kind == MessageKind.STAFF,
                    Message.created_at >= item.created_at,
                )
            ).first()
            practice = session.get(Practice, patient.practice_id)
            visit = last_visit(session, patient.id)
            location = session.get(Location, visit[0].location_id) if visit and visit[0].location_id else None
            if answered is None and not is_open(session, practice, location, now):
                continue  # closed: the nudge waits for the opening (the patient was told when)
            claimed = session.exec(
                update(Escalation)
                .where(col(Escalation.id) == item.id, col(Escalation.paged_at).is_(None))
                .values(paged_at=now)
            ).rowcount
            if claimed != 1 or answered is not None:
                continue  # another worker took it, or staff already texted the patient
            written += _text_staff(session, item, patient, now, after, location)
    outbox.enqueue(written)
    return len(written)


def _text_staff(
    session, item: Escalation, patient: Patient, now: datetime, after: timedelta, location: Location | None
) -> list[int]:
    who = (patient.first_name or "A patient").split()[0] + (f" {patient.last_name[0]}." if patient.last_name else "")
    base = runtime.settings().public_base_url
    link = f" {base.rstrip('/')}/patients/{patient.id}" if base else ""
    minutes = int(after.total_seconds() // 60)
    body = (
        f"#{item.id}: {who} asked to talk to a person {minutes} min ago and nobody has answered yet. "
        f"Please text them back from the inbox.{link} Reply ACK {item.id} to take it."
    )
    message = session.get(Message, item.message_id) if item.message_id else None
    sender = (message.to_number if message is not None else None) or runtime.settings().twilio_from_number or ""
    written = []
    for person in recipients(session, item, 1, now, location):
        if not person.phone:
            continue
        row = outbox.queue_text(
            session,
            key=f"handover-{item.id}-{person.id}",
            to=person.phone,
            from_=sender,
            body=body,
            kind=MessageKind.PAGE,
            escalation_id=item.id,
            practice_id=item.practice_id,
            staff_user_id=person.id,
            now=now,
        )
        if row is not None:
            written.append(row.id)
    if not written:
        log.error("handover %s: nobody with a phone to text", item.id)
    return written
