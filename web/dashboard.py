"""The staff dashboard: escalations first, patients and their transcripts, takeover, replies, numbers, mail."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from email import policy as email_policy
from email.parser import BytesParser
from pathlib import Path
from statistics import median
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from bot import runtime
from bot.clock import to_utc
from bot.errors import TransportError
from bot.messaging.phones import mask
from store.db import session_scope
from store.models import (
    Appointment,
    AuditEvent,
    ConversationState,
    Escalation,
    Location,
    Message,
    Patient,
    Practice,
    Service,
    StaffUser,
    Touch,
)
from web.auth import login_required, manager_required, render_error, safe_next

log = logging.getLogger(__name__)

bp = Blueprint("dashboard", __name__)
for _code in (400, 403, 404):
    bp.register_error_handler(_code, render_error)

URGENCY_ORDER = {"emergency": 0, "urgent": 1, "routine": 2}
"""Open escalations are listed most urgent first, then oldest first."""

TAKEOVER_HOURS = 24
"""How long a takeover keeps the bot quiet for one patient unless released earlier."""

NUMBERS_DAYS = 30
"""The window of the manager's numbers page."""

RESPONSE_WINDOW = timedelta(days=3)
"""A reply within this long after a touch counts as a response to it."""

BOOKING_WINDOW = timedelta(days=30)
"""An appointment booked within this long after a touch counts as booked after that touch."""

MAX_REPLY = 640
"""Staff replies stay within four segments."""

TIME_FORMAT = "%b %-d, %-I:%M %p"
"""How a time is shown to staff, in the practice's zone: "Nov 23, 10:04 AM"."""


# ------------------------------------------------------------------ helpers


def _now() -> datetime:
    return runtime.clock().now()


def _practice(db: Session) -> Practice:
    return db.get(Practice, g.staff.practice_id)


def _patient_or_404(db: Session, patient_id: int) -> Patient:
    patient = db.get(Patient, patient_id)
    if patient is None or patient.practice_id != g.staff.practice_id:
        abort(404, description="No such patient at this practice.")
    return patient


def thread_query(patient: Patient):
    """A patient's texts in and out; inbound ones count before the worker has linked them to the patient."""
    return select(Message).where(
        Message.kind != "alert",
        or_(
            Message.patient_id == patient.id,
            (col(Message.patient_id).is_(None))
            & ((Message.from_number == patient.phone) | (Message.to_number == patient.phone)),
        ),
    )


def practice_number(db: Session, patient: Patient) -> str | None:
    """The number this patient texts: the one they last wrote to, else their last location's, else the practice's."""
    last_in = db.exec(thread_query(patient).where(Message.direction == "in").order_by(col(Message.id).desc())).first()
    if last_in is not None:
        return last_in.to_number
    number = db.exec(
        select(Location.sms_number)
        .join(Appointment, Appointment.location_id == Location.id)
        .where(Appointment.patient_id == patient.id, col(Location.sms_number).is_not(None))
        .order_by(col(Appointment.start_at).desc())
    ).first()
    if number:
        return number
    practice = db.get(Practice, patient.practice_id)
    return (practice.phone if practice else None) or runtime.settings().twilio_from_number


def _local(moment: datetime | None, tz: str) -> datetime | None:
    return to_utc(moment).astimezone(ZoneInfo(tz)) if moment else None


def ago(moment: datetime | None, now: datetime) -> str:
    """'3 min', '2 h', '5 d': how long ago, short."""
    if moment is None:
        return ""
    seconds = max(0, int((now - to_utc(moment)).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} d ago"


@bp.app_template_filter("local")
def _local_filter(moment, fmt=TIME_FORMAT):
    """A stored UTC time shown in the practice's zone."""
    tz = getattr(g, "tz", None) or "America/Chicago"
    local = _local(moment, tz)
    return local.strftime(fmt) if local else ""


@bp.app_template_filter("reason")
def _reason_filter(reason):
    return reason_text(reason)


@bp.before_request
def _practice_timezone():
    g.tz = "America/Chicago"


def reason_text(reason: str | None) -> str:
    """'redflag:vascular_occlusion' as 'red flag: vascular occlusion', 'needs_reply:question' as
    'needs reply: question'."""
    return (reason or "").replace("redflag:", "red flag: ").replace(":", ": ").replace(":  ", ": ").replace("_", " ")


def _decision_view(decision: dict | None) -> dict | None:
    """The parts of a stored decision a person reads: what, how sure, why, and which path decided."""
    if not decision:
        return None
    guard = decision.get("guard") or {}
    view = {
        "intent": decision.get("intent") or guard.get("intent"),
        "urgency": decision.get("urgency") or guard.get("urgency"),
        "path": decision.get("path") or ("guard" if guard else None),
        "confidence": decision.get("confidence"),
        "rationale": decision.get("rationale"),
        "guard": guard.get("rule") or decision.get("guard_rule"),
        "fallback": decision.get("fallback_reason"),
        "actions": decision.get("actions") or ([decision["action"]] if decision.get("action") else []),
        "handler": decision.get("handler"),
    }
    return view if any(v for v in view.values()) else None


# ------------------------------------------------------------------- inbox


@bp.get("/")
@login_required
def inbox():
    """Open escalations first (most urgent, then oldest), then the latest texts in."""
    now = _now()
    with session_scope(runtime.db_url()) as db:
        practice = _practice(db)
        g.tz = practice.timezone
        rows = db.exec(
            select(Escalation, Patient, Message)
            .join(Patient, Patient.id == Escalation.patient_id, isouter=True)
            .join(Message, Message.id == Escalation.message_id, isouter=True)
            .where(
                col(Escalation.status).in_(("open", "acknowledged")),
                or_(Escalation.practice_id == practice.id, col(Escalation.practice_id).is_(None)),
            )
        ).all()
        staff = {s.id: s.name for s in db.exec(select(StaffUser).where(StaffUser.practice_id == practice.id))}
        paged = _paged(db, [e.id for e, _p, _m in rows], staff)
        escalations = sorted(
            (
                {
                    "id": e.id,
                    "urgency": e.urgency,
                    "status": e.status,
                    "reason": reason_text(e.reason),
                    "patient_id": p.id if p else None,
                    "first_name": (p.first_name if p else None) or "Unknown number",
                    "body": m.body if m else (e.note or ""),
                    "note": e.note if m else None,
                    "created_at": e.created_at,
                    "age": ago(e.created_at, now),
                    "acknowledged_by": staff.get(e.acknowledged_by),
                    "assigned": staff.get(e.assigned_staff_id),
                    "paged": paged.get(e.id, []),
                    "repaged": e.repaged_at is not None,
                }
                for e, p, m in rows
            ),
            key=lambda e: (e["status"] != "open", URGENCY_ORDER.get(e["urgency"], 3), to_utc(e["created_at"])),
        )
        recent = db.exec(
            select(Message, Patient)
            .join(Patient, Patient.id == Message.patient_id, isouter=True)
            .where(
                Message.direction == "in", or_(Message.practice_id == practice.id, col(Message.practice_id).is_(None))
            )
            .order_by(col(Message.id).desc())
            .limit(15)
        ).all()
        latest = [
            {"message": m, "patient": p, "decision": _decision_view(m.decision), "age": ago(m.created_at, now)}
            for m, p in recent
        ]
        return render_template("inbox.html", escalations=escalations, latest=latest, practice=practice)


def _paged(db: Session, escalation_ids: list[int], staff: dict) -> dict[int, list[str]]:
    """Who was texted a page for each escalation (keys page-<escalation>-<round>-<staff>), first page first."""
    if not escalation_ids:
        return {}
    found: dict[int, list[str]] = {}
    keys = db.exec(
        select(Message.idempotency_key)
        .where(Message.kind == "alert", Message.direction == "out", col(Message.idempotency_key).like("page-%"))
        .order_by(Message.id)
    )
    wanted = set(escalation_ids)
    for key in keys:
        parts = (key or "").split("-")
        if len(parts) == 4 and parts[1].isdigit() and int(parts[1]) in wanted:
            name = staff.get(int(parts[3])) if parts[3].isdigit() else None
            names = found.setdefault(int(parts[1]), [])
            if name and name not in names:
                names.append(name)
    return found


def _escalation_for_staff(db: Session, escalation_id: int) -> Escalation:
    escalation = db.get(Escalation, escalation_id)
    if escalation is None or escalation.practice_id not in (None, g.staff.practice_id):
        abort(404, description="No such escalation.")
    return escalation


@bp.post("/escalations/<int:escalation_id>/acknowledge")
@login_required
def acknowledge(escalation_id: int):
    """Say 'I have it': the escalation shows who took it."""
    now = _now()
    with session_scope(runtime.db_url()) as db:
        escalation = _escalation_for_staff(db, escalation_id)
        if escalation.status == "open":
            from bot.staff.paging import acknowledge

            acknowledge(db, escalation, g.staff.id, now, via="dashboard")
            flash("Acknowledged: it is yours now.", "info")
    return redirect(safe_next(request.form.get("next")))


@bp.post("/escalations/<int:escalation_id>/resolve")
@login_required
def resolve(escalation_id: int):
    """Close an escalation, with an optional note."""
    now = _now()
    with session_scope(runtime.db_url()) as db:
        escalation = _escalation_for_staff(db, escalation_id)
        if escalation.status != "resolved":
            if escalation.acknowledged_at is None:
                escalation.acknowledged_at, escalation.acknowledged_by = now, g.staff.id
            escalation.status, escalation.resolved_at = "resolved", now
            note = (request.form.get("note") or "").strip()[:500]
            escalation.note = note or escalation.note
            db.add(escalation)
            db.add(
                AuditEvent(
                    practice_id=g.staff.practice_id,
                    actor=f"staff:{g.staff.id}",
                    action="escalation_resolved",
                    subject_type="escalation",
                    subject_id=escalation.id,
                    created_at=now,
                )
            )
            flash("Resolved.", "info")
    return redirect(safe_next(request.form.get("next")))


# ---------------------------------------------------------------- patients


@bp.get("/patients")
@login_required
def patients():
    """Every patient, searchable by name or phone, most recently in touch first."""
    query_text = (request.args.get("q") or "").strip()
    now = _now()
    with session_scope(runtime.db_url()) as db:
        practice = _practice(db)
        g.tz = practice.timezone
        query = select(Patient).where(Patient.practice_id == practice.id)
        if query_text:
            like = f"%{query_text.lower()}%"
            digits = "".join(c for c in query_text if c.isdigit())
            conditions = [
                func.lower(Patient.first_name + " " + func.coalesce(Patient.last_name, "")).like(like),
                func.lower(func.coalesce(Patient.last_name, "")).like(like),
            ]
            if len(digits) >= 3:
                conditions.append(Patient.phone.like(f"%{digits}%"))
            query = query.where(or_(*conditions))
        found = db.exec(query.order_by(Patient.first_name, Patient.last_name).limit(200)).all()
        last_visits = dict(
            db.exec(
                select(Appointment.patient_id, func.max(Appointment.start_at))
                .where(Appointment.status == "completed", Appointment.practice_id == practice.id)
                .group_by(Appointment.patient_id)
            ).all()
        )
        open_escalations = set(db.exec(select(Escalation.patient_id).where(Escalation.status == "open")).all())
        rows = [{"patient": p, "last_visit": last_visits.get(p.id), "open": p.id in open_escalations} for p in found]
        return render_template("patients.html", rows=rows, q=query_text, now=now)


@bp.get("/patients/<int:patient_id>")
@login_required
def patient(patient_id: int):
    """Transcript with each decision, planned touches, consent and takeover state."""
    now = _now()
    with session_scope(runtime.db_url()) as db:
        practice = _practice(db)
        g.tz = practice.timezone
        person = _patient_or_404(db, patient_id)
        messages = db.exec(thread_query(person).order_by(Message.created_at, Message.id)).all()
        staff = {s.id: s.name for s in db.exec(select(StaffUser).where(StaffUser.practice_id == practice.id))}
        thread = [
            {"message": m, "decision": _decision_view(m.decision), "staff": staff.get(m.staff_user_id)}
            for m in messages
        ]
        touches = db.exec(select(Touch).where(Touch.patient_id == person.id).order_by(col(Touch.due_at).desc())).all()
        visits = db.exec(
            select(Appointment, Service)
            .join(Service, Service.id == Appointment.service_id)
            .where(Appointment.patient_id == person.id)
            .order_by(col(Appointment.start_at).desc())
        ).all()
        state = db.get(ConversationState, person.id)
        takeover = None
        if state and state.takeover_until and to_utc(state.takeover_until) > now:
            takeover = {
                "until": state.takeover_until,
                "by": staff.get(state.takeover_staff_id),
                "mine": state.takeover_staff_id == g.staff.id,
            }
        escalations = db.exec(
            select(Escalation).where(Escalation.patient_id == person.id).order_by(col(Escalation.id).desc())
        ).all()
        # Reading a transcript is an access to health information: keep who did it.
        db.add(
            AuditEvent(
                practice_id=practice.id,
                actor=f"staff:{g.staff.id}",
                action="transcript_viewed",
                subject_type="patient",
                subject_id=person.id,
                created_at=now,
            )
        )
        return render_template(
            "patient.html",
            patient=person,
            thread=thread,
            touches=touches,
            visits=visits,
            takeover=takeover,
            escalations=escalations,
            practice=practice,
            now=now,
            max_reply=MAX_REPLY,
            sender=practice_number(db, person),
        )


@bp.post("/appointments/<int:appointment_id>/<any(confirm, decline):answer>")
@login_required
def settle_request(appointment_id: int, answer: str):
    """The front desk books a time a patient picked by text (after entering it in the practice system), or declines it."""
    from bot.messaging import outbox
    from handlers.rebook import settle_request as settle

    now = _now()
    with session_scope(runtime.db_url()) as db:
        appointment = db.get(Appointment, appointment_id)
        if appointment is None or appointment.practice_id != g.staff.practice_id:
            abort(404, description="No such appointment.")
        patient_id = appointment.patient_id
        if appointment.status != "requested":
            flash(f"That visit is already {appointment.status.replace('_', ' ')}.", "error")
            return redirect(url_for("dashboard.patient", patient_id=patient_id))
        text_id = settle(db, appointment, answer == "confirm", g.staff.id, now)
        db.add(
            AuditEvent(
                practice_id=g.staff.practice_id,
                actor=f"staff:{g.staff.id}",
                action="booking_confirmed" if answer == "confirm" else "booking_declined",
                subject_type="appointment",
                subject_id=appointment_id,
                created_at=now,
            )
        )
    outbox.enqueue([text_id])
    flash(
        "Booked; the patient is texted the time."
        if answer == "confirm"
        else "Declined; the patient is asked for another day.",
        "info",
    )
    return redirect(url_for("dashboard.patient", patient_id=patient_id))


@bp.post("/patients/<int:patient_id>/takeover")
@login_required
def take_over(patient_id: int):
    """Staff take the conversation: the bot stays quiet for this patient for TAKEOVER_HOURS."""
    now = _now()
    with session_scope(runtime.db_url()) as db:
        person = _patient_or_404(db, patient_id)
        state = db.get(ConversationState, person.id) or ConversationState(patient_id=person.id)
        state.takeover_staff_id, state.takeover_until, state.updated_at = (
            g.staff.id,
            now + timedelta(hours=TAKEOVER_HOURS),
            now,
        )
        db.add(state)
        db.add(
            AuditEvent(
                practice_id=person.practice_id,
                actor=f"staff:{g.staff.id}",
                action="takeover",
                subject_type="patient",
                subject_id=person.id,
                created_at=now,
            )
        )
    flash(
        f"You have this conversation for the next {TAKEOVER_HOURS} hours; the bot will not answer or send touches.",
        "info",
    )
    return redirect(url_for("dashboard.patient", patient_id=patient_id))


@bp.post("/patients/<int:patient_id>/release")
@login_required
def release(patient_id: int):
    """Hand the conversation back to the bot."""
    now = _now()
    with session_scope(runtime.db_url()) as db:
        person = _patient_or_404(db, patient_id)
        state = db.get(ConversationState, person.id)
        if state is not None:
            state.takeover_staff_id, state.takeover_until, state.updated_at = None, None, now
            db.add(state)
        db.add(
            AuditEvent(
                practice_id=person.practice_id,
                actor=f"staff:{g.staff.id}",
                action="takeover_released",
                subject_type="patient",
                subject_id=person.id,
                created_at=now,
            )
        )
    flash("Released: the bot handles this conversation again.", "info")
    return redirect(url_for("dashboard.patient", patient_id=patient_id))


@bp.post("/patients/<int:patient_id>/reply")
@login_required
def reply(patient_id: int):
    """Text the patient as staff: the row is stored before the send, so a crash never hides a sent text."""
    body = " ".join((request.form.get("body") or "").split())
    now = _now()
    if not body:
        flash("Write a message first.", "error")
        return redirect(url_for("dashboard.patient", patient_id=patient_id))
    if len(body) > MAX_REPLY:
        flash(f"Keep replies under {MAX_REPLY} characters.", "error")
        return redirect(url_for("dashboard.patient", patient_id=patient_id))
    with session_scope(runtime.db_url()) as db:
        person = _patient_or_404(db, patient_id)
        if person.opted_out_at is not None:
            flash("This patient opted out: no texts may be sent until they text START.", "error")
            return redirect(url_for("dashboard.patient", patient_id=patient_id))
        sender = practice_number(db, person)
        message = Message(
            practice_id=person.practice_id,
            patient_id=person.id,
            staff_user_id=g.staff.id,
            direction="out",
            kind="staff",
            from_number=sender or "",
            to_number=person.phone,
            body=body,
            status="sending",
            idempotency_key=f"staff-{secrets.token_hex(12)}",
            created_at=now,
        )
        db.add(message)
        state = db.get(ConversationState, person.id) or ConversationState(patient_id=person.id)
        state.last_outbound_at, state.updated_at = now, now
        db.add(state)
        db.flush()
        message_id, to, practice_id = message.id, person.phone, person.practice_id
    status, sid, segments, error = _send(to, body, sender)
    with session_scope(runtime.db_url()) as db:
        message = db.get(Message, message_id)
        message.status, message.twilio_sid, message.segments = status, sid, segments
        message.sent_at = now if sid else None
        message.status_at = _now()
        db.add(message)
        db.add(
            AuditEvent(
                practice_id=practice_id,
                actor=f"staff:{g.staff.id}",
                action="staff_reply",
                subject_type="patient",
                subject_id=patient_id,
                detail={"message_id": message_id},
                created_at=now,
            )
        )
    if error:
        flash(f"Not sent: {error}", "error")
    else:
        flash("Sent.", "info")
    return redirect(url_for("dashboard.patient", patient_id=patient_id) + "#reply")


def _send(to: str, body: str, sender: str | None) -> tuple[str, str | None, int | None, str | None]:
    """(status, sid, segments, error) of one staff text."""
    from bot.messaging.transport import SmsTransport

    settings = runtime.settings()
    callback = settings.public_base_url + "/sms/status" if settings.public_base_url else None
    try:
        with SmsTransport(settings) as transport:
            result = transport.send(to, body, from_=sender, status_callback=callback)
    except TransportError as error:
        log.warning("staff reply to %s failed: %s", mask(to), error)
        return "failed", None, None, str(error)
    return result.status, result.sid, result.num_segments, None


# ----------------------------------------------------------------- numbers


@bp.get("/numbers")
@manager_required
def numbers():
    """The last NUMBERS_DAYS days: texts, responses, opt-outs, escalations, touches, rebookings, revenue."""
    now = _now()
    since = now - timedelta(days=NUMBERS_DAYS)
    with session_scope(runtime.db_url()) as db:
        practice = _practice(db)
        g.tz = practice.timezone
        figures = practice_numbers(db, practice.id, since, now)
        return render_template(
            "numbers.html", figures=figures, since=since, now=now, days=NUMBERS_DAYS, practice=practice
        )


def practice_numbers(db: Session, practice_id: int, since: datetime, now: datetime) -> dict:
    """The manager's figures for one practice between `since` and `now`."""
    messages = db.exec(
        select(Message).where(
            Message.practice_id == practice_id, Message.created_at >= since, Message.created_at <= now
        )
    ).all()
    out = [m for m in messages if m.direction == "out" and m.kind != "alert"]
    inbound = [m for m in messages if m.direction == "in"]
    alerts = [m for m in messages if m.kind == "alert"]

    sent_touches = db.exec(
        select(Touch).where(
            Touch.practice_id == practice_id, Touch.status == "sent", Touch.sent_at >= since, Touch.sent_at <= now
        )
    ).all()
    replies_by_patient: dict[int, list[datetime]] = {}
    for message in db.exec(
        select(Message).where(
            Message.practice_id == practice_id, Message.direction == "in", Message.created_at >= since
        )
    ):
        replies_by_patient.setdefault(message.patient_id, []).append(to_utc(message.created_at))
    answered = sum(
        1
        for t in sent_touches
        if any(
            to_utc(t.sent_at) < r <= to_utc(t.sent_at) + RESPONSE_WINDOW
            for r in replies_by_patient.get(t.patient_id, ())
        )
    )

    opt_outs = db.exec(
        select(func.count())
        .select_from(Patient)
        .where(Patient.practice_id == practice_id, Patient.opted_out_at >= since, Patient.opted_out_at <= now)
    ).one()

    escalation_rows = db.exec(
        select(Escalation).where(
            Escalation.practice_id == practice_id, Escalation.created_at >= since, Escalation.created_at <= now
        )
    ).all()
    escalations = []
    for urgency in ("emergency", "urgent", "routine"):
        rows = [e for e in escalation_rows if e.urgency == urgency]
        waits = [
            (to_utc(e.acknowledged_at) - to_utc(e.created_at)).total_seconds() / 60 for e in rows if e.acknowledged_at
        ]
        escalations.append(
            {
                "urgency": urgency,
                "count": len(rows),
                "open": sum(1 for e in rows if e.status == "open"),
                "median_ack_min": round(median(waits), 1) if waits else None,
            }
        )

    touch_rows = db.exec(
        select(Touch.status, Touch.reason, func.count())
        .where(
            Touch.practice_id == practice_id,
            Touch.updated_at >= since,
            Touch.updated_at <= now,
            col(Touch.status).in_(("sent", "skipped", "suppressed", "failed")),
        )
        .group_by(Touch.status, Touch.reason)
    ).all()
    touch_outcomes = sorted(
        ({"status": s, "reason": (r or "").replace("_", " "), "count": n} for s, r, n in touch_rows),
        key=lambda row: (row["status"] != "sent", -row["count"]),
    )

    # Booked after a touch: created within BOOKING_WINDOW after a text from a touch reached that patient.
    touch_times: dict[int, list[datetime]] = {}
    for patient_id, sent_at in db.exec(
        select(Touch.patient_id, Touch.sent_at).where(
            Touch.practice_id == practice_id, Touch.status == "sent", Touch.sent_at >= since - BOOKING_WINDOW
        )
    ):
        touch_times.setdefault(patient_id, []).append(to_utc(sent_at))
    bookings = db.exec(
        select(Appointment).where(
            Appointment.practice_id == practice_id,
            Appointment.created_at >= since,
            Appointment.created_at <= now,
            col(Appointment.status).in_(("booked", "completed", "requested")),
        )
    ).all()
    after_touch = [
        a
        for a in bookings
        if any(t < to_utc(a.created_at) <= t + BOOKING_WINDOW for t in touch_times.get(a.patient_id, ()))
    ]
    return {
        "texts_out": len(out),
        "texts_in": len(inbound),
        "alerts": len(alerts),
        "touches_sent": len(sent_touches),
        "touches_answered": answered,
        "response_rate": round(100 * answered / len(sent_touches)) if sent_touches else None,
        "opt_outs": opt_outs,
        "opt_out_rate": round(100 * opt_outs / len(sent_touches), 1) if sent_touches else None,
        "escalations": escalations,
        "escalations_total": len(escalation_rows),
        "touch_outcomes": touch_outcomes,
        "rebooked_patients": len({a.patient_id for a in after_touch}),
        "rebooked_appointments": len(after_touch),
        "revenue_after_touch": sum(a.price or 0 for a in after_touch),
        "booked_by_text": sum(1 for a in bookings if a.source == "bot"),
    }


# -------------------------------------------------------------------- mail


def _mail_dir() -> Path:
    return runtime.settings().data_dir / "mail"


@bp.get("/mail")
@login_required
def mail():
    """The local mail sink: what Aftercare would have emailed (demo and development)."""
    folder = _mail_dir()
    files = (
        sorted((p for p in folder.glob("*") if p.is_file()), key=lambda p: p.stat().st_mtime, reverse=True)
        if folder.is_dir()
        else []
    )
    items = []
    for path in files[:200]:
        head = _mail_headers(path)
        items.append(
            {
                "name": path.name,
                "subject": head.get("subject", path.name),
                "to": head.get("to", ""),
                "at": datetime.fromtimestamp(path.stat().st_mtime).astimezone(),
            }
        )
    return render_template("mail.html", items=items, folder=folder)


@bp.get("/mail/<name>")
@login_required
def mail_message(name: str):
    """One stored email, headers and text."""
    folder = _mail_dir().resolve()
    path = (folder / name).resolve()
    if path.parent != folder or not path.is_file():
        abort(404, description="No such mail.")
    message = _read_mail(path)
    body = message.get_body(preferencelist=("plain", "html")) if message is not None else None
    text = body.get_content() if body is not None else path.read_text(errors="replace")
    return render_template("mail_message.html", name=name, text=text, headers=_mail_headers(path))


def _read_mail(path: Path):
    try:
        return BytesParser(policy=email_policy.default).parsebytes(path.read_bytes())
    except (OSError, ValueError):
        return None


def _mail_headers(path: Path) -> dict:
    message = _read_mail(path)
    if message is None:
        return {}
    return {key.lower(): str(value) for key, value in message.items()}
