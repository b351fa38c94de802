"""Corrections that teach: a manager marks a decision wrong and gives the right intent and urgency; the
corrections export as the labeled JSONL `aftercare eval` reads, and measure the classifier month by month."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, col, select

from bot import runtime
from bot.clock import to_local, to_utc
from bot.errors import ValidationError
from bot.settings import Settings
from bot.understanding.redaction import redact
from bot.vocabulary import Direction, Intent, Urgency
from store import scope
from store.models import Appointment, AuditEvent, Correction, Message, Patient, Practice, Service
from store.scope import Places

NOTE_MAX = 500
"""The longest note a correction keeps."""
CAUGHT = (Urgency.URGENT, Urgency.EMERGENCY)
"""An urgent-or-emergency text counts as caught when it was read as urgent or emergency (as `aftercare eval`)."""


def correct(
    session: Session, practice_id: int, message_id: int, intent: str, urgency: str, staff_id: int, note: str = ""
) -> Correction:
    """Record (or replace) the right reading of an inbound text, audited with before and after.

    Raises ValidationError (field, message) for an unknown intent or urgency, a note too long, or a message
    that is not an inbound text of this practice with a decision; nothing is changed then.
    """
    errors = []
    if intent not in set(Intent):
        errors.append({"field": "intent", "message": f"unknown intent {intent!r}"})
    if urgency not in set(Urgency):
        errors.append({"field": "urgency", "message": f"unknown urgency {urgency!r}"})
    if len(note) > NOTE_MAX:
        errors.append({"field": "note", "message": f"at most {NOTE_MAX} characters"})
    message = session.get(Message, message_id)
    if message is None or message.practice_id != practice_id or message.direction != Direction.IN:
        errors.append({"field": "message", "message": "no such text from a patient of this practice"})
    elif not message.decision:
        errors.append({"field": "message", "message": "this text has no decision to correct yet"})
    if errors:
        raise ValidationError(errors)
    assert message is not None and message.decision is not None
    row = session.exec(select(Correction).where(Correction.message_id == message_id)).first()
    before = {"intent": row.intent, "urgency": row.urgency} if row else None
    if row is None:
        row = Correction(
            practice_id=practice_id,
            message_id=message_id,
            original_intent=message.decision.get("intent"),
            original_urgency=message.decision.get("urgency") or Urgency.NONE,
            intent=intent,
            urgency=urgency,
        )
    row.intent, row.urgency, row.note, row.staff_user_id = intent, urgency, note.strip() or None, staff_id
    row.created_at = runtime.clock().now()
    session.add(row)
    session.flush()
    session.add(
        AuditEvent(
            practice_id=practice_id,
            actor=f"staff:{staff_id}",
            action="decision_corrected",
            subject_type="message",
            subject_id=message_id,
            detail={
                "decision": {"intent": row.original_intent, "urgency": row.original_urgency},
                "before": before,
                "after": {"intent": intent, "urgency": urgency},
            },
            created_at=row.created_at,
        )
    )
    return row


def labeled(session: Session, practice_id: int, places: Places = None) -> list[dict]:
    """The practice's corrections (of these locations when given: store.scope) as rows of the labeled format (shared/data/inbound_dev.jsonl): the text with
    names, phone numbers and emails scrubbed, its context, and the right intent and urgency."""
    rows = session.exec(
        select(Correction, Message)
        .join(Message, col(Message.id) == Correction.message_id)
        .where(Correction.practice_id == practice_id, scope.rule(Correction, places))
        .order_by(col(Correction.created_at), col(Correction.id))
    ).all()
    out = []
    for correction, message in rows:
        patient = session.get(Patient, message.patient_id) if message.patient_id else None
        names = [n for n in ((patient.first_name, patient.last_name) if patient else ()) if n]
        context = _context(session, message, names)
        out.append(
            {
                "id": f"c{correction.id}",
                "context": context,
                "body": redact(message.body, names),
                "intent": correction.intent,
                "urgency": correction.urgency,
                "lang": patient.language if patient else "en",
                "notes": f"corrected from {correction.original_intent}/{correction.original_urgency}",
            }
        )
    return out


def export_jsonl(session: Session, practice_id: int, places: Places = None) -> str:
    """The corrections as JSONL text, one labeled row a line."""
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in labeled(session, practice_id, places))


def _context(session: Session, message: Message, names: list[str]) -> dict:
    visit = session.exec(
        select(Appointment, Service)
        .join(Service, col(Service.id) == Appointment.service_id)
        .where(Appointment.patient_id == message.patient_id, Appointment.start_at <= message.created_at)
        .order_by(col(Appointment.start_at).desc())
    ).first()
    last_out = session.exec(
        select(Message.body)
        .where(
            Message.patient_id == message.patient_id,
            Message.direction == Direction.OUT,
            Message.created_at < message.created_at,
        )
        .order_by(col(Message.created_at).desc())
    ).first()
    days = (to_utc(message.created_at) - to_utc(visit[0].start_at)).days if visit else None
    return {
        "treatment": visit[1].category if visit else None,
        "days_since_visit": days,
        "last_outbound": redact(last_out, names) if last_out else None,
    }


def by_month(session: Session, practice_id: int, places: Places = None) -> list[dict]:
    """Per month of correction: how many, how often the original decision had the right intent, and how often
    today's local classifier does on the same texts; urgent recall for both."""
    practice = session.get(Practice, practice_id)
    assert practice is not None
    rows = labeled(session, practice_id, places)
    stamps = {c.id: c for c in session.exec(select(Correction).where(Correction.practice_id == practice_id))}
    months: dict[str, list[tuple[Correction, dict]]] = {}
    for row in rows:
        correction = stamps[int(row["id"][1:])]
        months.setdefault(_month(correction.created_at, practice.timezone), []).append((correction, row))
    # why: the classifier and its model load on the first Corrections page, not when the web app starts
    from bot.understanding.classifier import classify

    settings = Settings()  # no LLM: the local classifier, as `aftercare eval` runs it by default
    out = []
    for label in sorted(months):
        items = months[label]
        now_read = [classify(row["body"], dict(row["context"]), settings) for _, row in items]
        urgent = [i for i, (c, _) in enumerate(items) if c.urgency in CAUGHT]
        out.append(
            {
                "month": label,
                "count": len(items),
                "original_accuracy": _share(c.original_intent == c.intent for c, _ in items),
                "classifier_accuracy": _share(d.intent == c.intent for d, (c, _) in zip(now_read, items, strict=True)),
                "urgent": len(urgent),
                "original_urgent_recall": _share(items[i][0].original_urgency in CAUGHT for i in urgent),
                "classifier_urgent_recall": _share(now_read[i].urgency in CAUGHT for i in urgent),
            }
        )
    return out


def _month(moment: datetime, tz: str) -> str:
    local = to_local(moment, tz)
    return f"{local.year:04d}-{local.month:02d}"


def _share(flags: Iterable[bool]) -> float | None:
    values = list(flags)
    return round(100 * sum(values) / len(values), 1) if values else None
