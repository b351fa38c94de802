"""The patient simulator: play a patient in the browser, through the real signed webhook.

A reply typed here goes to the fake Twilio's `/_fake/inbound`, which signs a
Twilio inbound form and posts it to `/sms/inbound`, so the demo exercises the
same path as a real phone. It is mounted only in demo mode with the Twilio API a
local fake (app.demo_surfaces_on), and only for signed-in staff.
"""

from __future__ import annotations

import logging
from datetime import datetime

import requests
from flask import Blueprint, abort, jsonify, render_template, request
from sqlalchemy import func, or_
from sqlmodel import col, select

from bot import runtime
from bot.clock import to_local, to_utc
from bot.understanding import guards
from bot.vocabulary import EscalationStatus, MessageKind, Urgency
from store.db import session_scope
from store.models import (
    Appointment,
    ConversationState,
    Escalation,
    Location,
    Message,
    Patient,
    Practice,
    StaffUser,
)
from store.queries import last_visit
from web.transcript import TIME_FORMAT, URGENCY_ORDER, decision_view, practice_number, reason_text, thread_query

log = logging.getLogger(__name__)

bp = Blueprint("simulator", __name__, url_prefix="/simulator")

FAKE_TIMEOUT_S = 20
"""The fake waits up to 15 s for the webhook, as Twilio does; allow a little more."""

MAX_BODY = 1600

TODAY_FORMAT = "%-I:%M %p"
"""Today's texts show the time alone, like a phone; older ones as the dashboard shows them."""

DEFAULT_TIMEZONE = Practice.model_fields["timezone"].default
"""For a text tied to no practice: the zone a practice has by default."""

SUGGESTIONS = (
    ("book", "Can I come in next Tuesday afternoon?", "¿Tienen algo el jueves por la tarde?"),
    ("pick by ordinal", "the second one", "la segunda"),
    ("move a visit", "Can I move my appointment to next week?", "¿Puedo cambiar mi cita a la próxima semana?"),
    ("cancel a visit", "I need to cancel my appointment", "necesito cancelar mi cita"),
    ("confirm the cancel", "YES", "sí"),
    ("a person", "Can I talk to a real person?", "¿Puedo hablar con una persona?"),
    ("wrong number", "Wrong number, I don't know this person", "número equivocado, no conozco a esa persona"),
    ("STOP", "STOP", "STOP"),
    ("START", "START", "START"),
    (
        "complaint",
        "I'm really unhappy with my results and the front desk was rude",
        "estoy muy decepcionada con el resultado y me trataron mal",
    ),
    (
        "side effect",
        "I have a bit of bruising on my lip, is that normal?",
        "tengo un poco de moretón en el labio, ¿es normal?",
    ),
    ("urgent", "my eyelid is drooping since the botox", "se me cae el párpado desde el bótox"),
    ("emergency", "my lip looks white and really hurts", "mi labio se ve blanco y me duele mucho"),
    ("question, a fact answers", "Where do I park?", "¿Tienen estacionamiento?"),
    ("question, no fact", "Do you sell gift cards?", "¿Tienen tarjetas de regalo?"),
    ("price", "How much is Botox?", "¿Cuánto cuesta el Botox?"),
    (
        "referral",
        "My sister wants to come in, do you have a referral code?",
        "Mi hermana quiere venir, ¿tienen código de referido?",
    ),
)
"""(what it shows, English text, Spanish text): one for each thing a conversation can do, in the patient's
language; a pick by time of day is added while times are on offer (it names one of them)."""

SYSTEMIC_EMERGENCY = (
    "my lips and tongue are swelling and it's hard to breathe",
    "se me están hinchando los labios y la lengua y me cuesta respirar",
)
"""The emergency suggested to a patient whose last treatment makes a white lip no emergency."""


@bp.get("/")
def page():
    """The simulator: patients on the left, the thread in the middle, texts to staff on the right."""
    return render_template("simulator.html")


@bp.get("/api/patients")
def find_patients():
    """Patients whose name (or phone digits) match `q`; the first 30."""
    text = (request.args.get("q") or "").strip().lower()
    with session_scope(runtime.db_url()) as db:
        # Patients Aftercare texts (care consent) or who opted out: not the practice system's clients who
        # never agreed to texts (the demo's full calendar holds hundreds).
        query = (
            select(Patient, Practice.name)
            .join(Practice, Practice.id == Patient.practice_id)
            .where(or_(Patient.care_sms == True, col(Patient.opted_out_at).is_not(None)))  # noqa: E712
        )
        if text:
            digits = "".join(c for c in text if c.isdigit())
            conditions = [func.lower(Patient.first_name + " " + func.coalesce(Patient.last_name, "")).like(f"%{text}%")]
            if len(digits) >= 3:
                conditions.append(Patient.phone.like(f"%{digits}%"))
            query = query.where(or_(*conditions))
        rows = db.exec(query.order_by(Patient.first_name, Patient.last_name).limit(30)).all()
        return jsonify(
            patients=[
                {
                    "id": p.id,
                    "name": " ".join(filter(None, (p.first_name, p.last_name))),
                    "phone": p.phone,
                    "language": p.language,
                    "practice": practice,
                    "opted_out": p.opted_out_at is not None,
                }
                for p, practice in rows
            ]
        )


@bp.get("/api/patients/<int:patient_id>/thread")
def thread(patient_id: int):
    """The patient's texts in time order, each with the bot's decision; `after` returns only newer ones."""
    after = request.args.get("after", type=int) or 0
    with session_scope(runtime.db_url()) as db:
        patient = db.get(Patient, patient_id)
        if patient is None:
            abort(404)
        messages = db.exec(
            thread_query(patient).where(Message.id > after).order_by(Message.created_at, Message.id)
        ).all()
        staff = {s.id: s.name for s in db.exec(select(StaffUser).where(StaffUser.practice_id == patient.practice_id))}
        location = db.exec(
            select(Location)
            .join(Appointment, Appointment.location_id == Location.id)
            .where(Appointment.patient_id == patient.id)
            .order_by(col(Appointment.start_at).desc())
        ).first()
        practice = db.get(Practice, patient.practice_id)
        tz = practice.timezone if practice is not None else DEFAULT_TIMEZONE
        return jsonify(
            patient={
                "id": patient.id,
                "first_name": patient.first_name,
                "last_name": patient.last_name,
                "phone": patient.phone,
                "language": patient.language,
                "opted_out": patient.opted_out_at is not None,
                "practice_number": practice_number(db, patient),
                "location": location.name if location else None,
            },
            messages=[_message_json(m, staff, tz) for m in messages],
            status=_status(db, patient, runtime.clock().now(), tz),
            suggestions=_suggestions(db, patient, tz),
        )


def _status(db, patient: Patient, now: datetime, tz: str) -> list[str]:
    """What the conversation's state is now, in a few words each: what the last text did."""
    lines = []
    state = db.get(ConversationState, patient.id)
    if patient.opted_out_at is not None:
        lines.append("opted out: nothing is sent but the one confirmation (START resumes care texts)")
    if patient.flagged_at is not None:
        lines.append(f"number flagged ({(patient.flag_reason or 'flagged').replace('_', ' ')}): staff fix it")
    if state is not None and state.takeover_until is not None and to_utc(state.takeover_until) > now:
        lines.append(f"handed to staff: the bot is paused until {_shown(state.takeover_until, tz)}")
    pending = (state.pending if state is not None else None) or {}
    if pending.get("kind") == "slots":
        lines.append(f"{len(pending.get('options') or [])} time(s) on offer: pick one by number, order, time or day")
    elif pending.get("kind") == "cancel":
        lines.append("waiting for YES to cancel the visit")
    requested = db.exec(
        select(Appointment.id).where(Appointment.patient_id == patient.id, Appointment.status == "requested")
    ).first()
    if requested is not None:
        lines.append("booking request waiting for the front desk to confirm")
    items = db.exec(
        select(Escalation.urgency, Escalation.reason).where(
            Escalation.patient_id == patient.id, Escalation.status != EscalationStatus.RESOLVED
        )
    ).all()
    for urgency, reason in items:
        lines.append(f"in the staff inbox ({urgency}): {reason_text(reason)}")
    if patient.referral_code:
        lines.append(f"referral code {patient.referral_code}")
    return lines


def _suggestions(db, patient: Patient, tz: str) -> list[dict]:
    """Texts to try, in the patient's language; while times are on offer, one that picks by time of day."""
    spanish = patient.language == "es"
    found = [{"label": label, "body": es if spanish else en} for label, en, es in SUGGESTIONS]
    # A white lip is an emergency after filler; for other patients suggest one that is whatever they had.
    visit = last_visit(db, patient.id)
    emergency = next(item for item in found if item["label"] == "emergency")
    flagged = guards.check(emergency["body"], visit[1].category if visit else "other", 1)
    if flagged is None or flagged.urgency != Urgency.EMERGENCY:
        emergency["body"] = SYSTEMIC_EMERGENCY[1] if spanish else SYSTEMIC_EMERGENCY[0]
    state = db.get(ConversationState, patient.id)
    options = ((state.pending if state is not None else None) or {}).get("options") or []
    if options and (state.pending or {}).get("kind") == "slots":
        starts = [to_local(to_utc(datetime.fromisoformat(o["start"])), tz) for o in options]
        clock = [start.strftime("%H:%M") for start in starts]
        # The last time whose clock time no other option shares; else it needs its day as well.
        start = next((s for s in reversed(starts) if clock.count(s.strftime("%H:%M")) == 1), starts[-1])
        day = "" if clock.count(start.strftime("%H:%M")) == 1 else start.strftime("%A ").lower()
        if spanish:
            said = f"el {SPANISH_DAYS[start.weekday()]} a las {start:%H:%M}" if day else f"las {start:%H:%M}"
        else:
            said = f"the {day}{start.strftime('%-I:%M%p').lower()}"
        found.insert(2, {"label": "pick by time of day", "body": said})
    return found


SPANISH_DAYS = ("lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo")
"""Weekday names as a patient types them (Monday first)."""


def _message_json(message: Message, staff: dict, tz: str) -> dict:
    return {
        "id": message.id,
        "direction": message.direction,
        "kind": message.kind,
        "body": message.body,
        "status": message.status,
        "at": to_utc(message.created_at).isoformat(),
        "time": _shown(message.created_at, tz),
        "staff": staff.get(message.staff_user_id),
        "decision": decision_view(message.decision),
    }


def _shown(moment, tz: str) -> str:
    """A stored time as the dashboard shows it, in the practice's zone rather than the browser's."""
    local = to_local(moment, tz)
    today = to_local(runtime.clock().now(), tz).date()
    return local.strftime(TODAY_FORMAT if local.date() == today else TIME_FORMAT)


@bp.get("/api/alerts")
def alerts():
    """The latest texts to staff (pages and alerts) and open escalations."""
    with session_scope(runtime.db_url()) as db:
        staff = {s.phone: s.name for s in db.exec(select(StaffUser)) if s.phone}
        messages = db.exec(
            select(Message).where(Message.kind == MessageKind.PAGE).order_by(col(Message.id).desc()).limit(20)
        ).all()
        escalations = db.exec(
            select(Escalation, Patient.first_name)
            .join(Patient, Patient.id == Escalation.patient_id, isouter=True)
            .where(Escalation.status == "open")
            .order_by(col(Escalation.id).desc())
            .limit(10)
        ).all()
        zones = dict(db.exec(select(Practice.id, Practice.timezone)).all())

        def time(row) -> str:
            return _shown(row.created_at, zones.get(row.practice_id, DEFAULT_TIMEZONE))

        return jsonify(
            alerts=[
                {
                    "id": m.id,
                    "to": staff.get(m.to_number, m.to_number),
                    "body": m.body,
                    "status": m.status,
                    "at": to_utc(m.created_at).isoformat(),
                    "time": time(m),
                }
                for m in messages
            ],
            escalations=[
                {
                    "id": e.id,
                    "urgency": e.urgency,
                    "reason": reason_text(e.reason),
                    "first_name": first or "Unknown",
                    "at": to_utc(e.created_at).isoformat(),
                    "time": time(e),
                }
                for e, first in sorted(escalations, key=lambda row: URGENCY_ORDER.get(row[0].urgency, 3))
            ],
        )


@bp.post("/api/patients/<int:patient_id>/send")
def send(patient_id: int):
    """Text the practice as this patient, through the fake Twilio and the signed webhook."""
    payload = request.get_json(silent=True) or {}
    body = str(payload.get("body") or "").strip()
    if not body:
        return jsonify(error="type a message first"), 400
    if len(body) > MAX_BODY:
        return jsonify(error=f"a text holds at most {MAX_BODY} characters"), 400
    with session_scope(runtime.db_url()) as db:
        patient = db.get(Patient, patient_id)
        if patient is None:
            abort(404)
        frm, to = patient.phone, practice_number(db, patient)
    if not to:
        return jsonify(error="this patient's practice has no SMS number"), 409
    base = runtime.settings().twilio_api_base_url.rstrip("/")
    try:
        with requests.Session() as http:
            answer = http.post(
                base + "/_fake/inbound", json={"from": frm, "to": to, "body": body}, timeout=FAKE_TIMEOUT_S
            )
    except requests.RequestException as error:
        log.warning("simulator could not reach the fake Twilio: %s", type(error).__name__)
        return jsonify(error="the fake Twilio is not answering; is the demo running?"), 502
    if answer.status_code != 200:
        return jsonify(error=f"the fake Twilio answered {answer.status_code}: {answer.text[:200]}"), 502
    result = answer.json()
    if result.get("status") != 200:
        return jsonify(error=f"the webhook answered {result.get('status')}", sid=result.get("sid")), 502
    return jsonify(sid=result.get("sid"), webhook_status=result.get("status"))
