"""JSON API: appointments in (HMAC-signed), and a read API for managers and integrations (bearer token)."""

from __future__ import annotations

import hashlib
import hmac
import json
from functools import wraps

from flask import Blueprint, g, jsonify, request
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot import runtime
from bot.errors import ValidationError
from bot.growth import matrix
from bot.growth.ready import prompt, prompt_view
from bot.intake.schema import validate
from bot.intake.upsert import upsert
from bot.messaging.phones import normalize
from bot.staff.api_tokens import TokenRefused, practice_for_token
from store.db import session_scope
from store.models import Appointment, AuditEvent, Escalation, Message, Patient, Touch

bp = Blueprint("api", __name__, url_prefix="/api")


def _valid_hmac(raw: bytes, header: str) -> bool:
    if not header.startswith("sha256="):
        return False
    expected = hmac.new(runtime.settings().appointments_webhook_secret.encode(), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[len("sha256=") :].strip().lower())


@bp.post("/appointments")
def post_appointment():
    """Upsert one appointment by external_id; 401 on a bad signature, 400 with field errors."""
    raw = request.get_data(cache=False)
    if not _valid_hmac(raw, request.headers.get("X-Aftercare-Signature", "")):
        return jsonify(error="invalid signature"), 401
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return jsonify(error="invalid JSON", errors=[{"field": "(body)", "message": "is not valid JSON"}]), 400
    except RecursionError:
        return jsonify(error="invalid JSON", errors=[{"field": "(body)", "message": "is nested too deeply"}]), 400
    try:
        item = validate(payload)
    except ValidationError as exc:
        return jsonify(error="invalid appointment", errors=exc.errors), 400
    try:
        ids = _upsert(item)
    except ValidationError as exc:  # what only the stored rows can tell, such as a number erased on request
        return jsonify(error="invalid appointment", errors=exc.errors), 400
    return jsonify(status="ok", **ids)


UPSERT_ATTEMPTS = 5
"""Tries of one appointment's upsert: a practice system retrying a post races itself."""


def _upsert(item) -> dict:
    # The same new appointment posted twice at once: one insert wins, the other hits a unique constraint;
    # its next try reads the winner's rows and updates them instead.
    for attempt in range(1, UPSERT_ATTEMPTS + 1):
        try:
            with session_scope(runtime.db_url()) as session:
                return upsert(session, item, source="api")
        except IntegrityError:
            if attempt == UPSERT_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def bearer_required(view):
    """The read API needs `Authorization: Bearer <token>`: a practice's token (bot/staff/api_tokens.py),
    or AFTERCARE_API_TOKEN where there is one practice. Every query is then kept to that practice
    (`g.api_practice_id`); another practice's patient is a 404, like one that does not exist."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        token = header[len("Bearer ") :] if header.startswith("Bearer ") else ""
        try:
            with session_scope(runtime.db_url()) as session:
                g.api_practice_id = practice_for_token(session, runtime.settings().aftercare_api_token or "", token).id
        except TokenRefused as exc:
            return jsonify(error=str(exc)), 401
        return view(*args, **kwargs)

    return wrapper


def patient_json(patient: Patient) -> dict:
    return {
        "id": patient.id,
        "external_id": patient.external_id,
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "phone": patient.phone,
        "language": patient.language,
        "care_sms": patient.care_sms,
        "marketing_sms": patient.marketing_sms,
        "opted_out_at": _iso(patient.opted_out_at),
        "flagged_at": _iso(patient.flagged_at),
    }


def _iso(moment):
    return moment.isoformat() if moment else None


@bp.get("/patients")
@bearer_required
def find_patients():
    """Patients by phone number."""
    phone = request.args.get("phone")
    if not phone:
        return jsonify(error="phone is required", errors=[{"field": "phone", "message": "is required"}]), 400
    try:
        phone = normalize(phone, runtime.settings().default_country)
    except ValidationError as exc:
        return jsonify(error="invalid phone", errors=exc.errors), 400
    with session_scope(runtime.db_url()) as session:
        patients = session.exec(
            select(Patient).where(Patient.phone == phone, Patient.practice_id == g.api_practice_id)
        ).all()
        return jsonify(patients=[patient_json(p) for p in patients])


@bp.get("/patients/<int:patient_id>/timeline")
@bearer_required
def timeline(patient_id: int):
    """Messages with their decisions and touches with status and reason, in time order."""
    with session_scope(runtime.db_url()) as session:
        patient = session.get(Patient, patient_id)
        if patient is None or patient.practice_id != g.api_practice_id:
            return jsonify(error="no such patient"), 404
        events = []
        for message in session.exec(select(Message).where(Message.patient_id == patient_id)):
            events.append(
                {
                    "type": "message",
                    "at": _iso(message.created_at),
                    "id": message.id,
                    "direction": message.direction,
                    "kind": message.kind,
                    "body": message.body,
                    "status": message.status,
                    "error_code": message.error_code,
                    "segments": message.segments,
                    "decision": message.decision,
                }
            )
        for touch in session.exec(select(Touch).where(Touch.patient_id == patient_id)):
            events.append(
                {
                    "type": "touch",
                    "at": _iso(touch.sent_at or touch.due_at),
                    "id": touch.id,
                    "plan": touch.plan,
                    "step": touch.step,
                    "purpose": touch.purpose,
                    "channel": touch.channel,
                    "status": touch.status,
                    "reason": touch.reason,
                    "due_at": _iso(touch.due_at),
                    "sent_at": _iso(touch.sent_at),
                }
            )
        events.sort(key=lambda e: (e["at"] or "", e["type"], e["id"]))
        # Reading a transcript is an access to health information: keep who did it.
        session.add(
            AuditEvent(
                practice_id=patient.practice_id,
                actor="api",
                action="transcript_viewed",
                subject_type="patient",
                subject_id=patient.id,
                created_at=runtime.clock().now(),
            )
        )
        return jsonify(patient=patient_json(patient), events=events)


@bp.get("/escalations")
@bearer_required
def escalations():
    """Escalations, newest first; `?status=open` for those nobody has closed."""
    status = request.args.get("status")
    with session_scope(runtime.db_url()) as session:
        query = (
            select(Escalation).where(Escalation.practice_id == g.api_practice_id).order_by(col(Escalation.id).desc())
        )
        if status:
            query = query.where(Escalation.status == status)
        rows = session.exec(query.limit(500)).all()
        return jsonify(
            escalations=[
                {
                    "id": e.id,
                    "patient_id": e.patient_id,
                    "message_id": e.message_id,
                    "urgency": e.urgency,
                    "reason": e.reason,
                    "status": e.status,
                    "created_at": _iso(e.created_at),
                    "acknowledged_at": _iso(e.acknowledged_at),
                    "resolved_at": _iso(e.resolved_at),
                }
                for e in rows
            ]
        )


@bp.get("/appointments/<int:appointment_id>/prompt")
@bearer_required
def visit_prompt(appointment_id: int):
    """The staff prompt before a visit: history, last visit, retail gaps and one suggested mention."""
    with session_scope(runtime.db_url()) as session:
        visit = session.get(Appointment, appointment_id)
        if visit is None:
            return jsonify(error="no such appointment"), 404
        table = matrix.current(session, visit.practice_id)
        return jsonify(prompt_view(prompt(session, visit, table, runtime.clock().now())))
