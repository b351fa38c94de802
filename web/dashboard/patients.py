"""A patient's page: the transcript with each decision, takeover and release, and staff replies."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from flask import flash, g, redirect, render_template, request, url_for
from redis.exceptions import RedisError
from sqlalchemy import func, or_
from sqlmodel import col, select

from bot import runtime
from bot.clock import to_utc
from bot.consent.privacy import erased_number
from bot.errors import ValidationError
from bot.growth import matrix, retail
from bot.growth import segments as growth_segments
from bot.intake.number_fix import number_changed
from bot.messaging import outbox, phones
from bot.vocabulary import MessageKind
from store.db import session_scope
from store.models import (
    Appointment,
    AuditEvent,
    ConversationState,
    Escalation,
    Message,
    Patient,
    Service,
    StaffUser,
    Touch,
)
from web.dashboard import bp
from web.dashboard.context import current_time, patient_or_404, practice_rows, staff_practice
from web.transcript import decision_view, practice_number, thread_query

log = logging.getLogger(__name__)

TAKEOVER_HOURS = 24
"""How long a takeover keeps the bot quiet for one patient unless released earlier."""

MAX_REPLY = 640
"""Staff replies stay within four segments."""


@bp.get("/patients")
def patients():
    """Every patient, searchable by name or phone, most recently in touch first."""
    query_text = (request.args.get("q") or "").strip()
    now = current_time()
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        query = select(Patient).where(practice_rows(Patient.practice_id))
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
        open_escalations = set(
            db.exec(
                select(Escalation.patient_id).where(Escalation.status == "open", Escalation.practice_id == practice.id)
            ).all()
        )
        rows = [{"patient": p, "last_visit": last_visits.get(p.id), "open": p.id in open_escalations} for p in found]
        return render_template("patients.html", rows=rows, q=query_text, now=now)


@bp.get("/patients/<int:patient_id>")
def patient(patient_id: int):
    """Transcript with each decision, planned touches, consent and takeover state."""
    now = current_time()
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        person = patient_or_404(db, patient_id)
        messages = db.exec(thread_query(person).order_by(Message.created_at, Message.id)).all()
        staff = {s.id: s.name for s in db.exec(select(StaffUser).where(StaffUser.practice_id == practice.id))}
        thread = [
            {"message": m, "decision": decision_view(m.decision), "staff": staff.get(m.staff_user_id)} for m in messages
        ]
        touches = db.exec(select(Touch).where(Touch.patient_id == person.id).order_by(col(Touch.due_at).desc())).all()
        visits = db.exec(
            select(Appointment, Service)
            .join(Service, Service.id == Appointment.service_id)
            .where(Appointment.patient_id == person.id)
            .order_by(col(Appointment.start_at).desc())
        ).all()
        state = db.get(ConversationState, person.id)
        table = matrix.current(db, practice.id)
        segments = growth_segments.standing(db, person, table, now)
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
            standing=segments,
            retail_sales=retail.sales(db, person),
            retail_offers=retail.retail_offers(db, person),
            retail_items=table.retail_names(),
        )


@bp.post("/patients/<int:patient_id>/takeover")
def take_over(patient_id: int):
    """Staff take the conversation: the bot stays quiet for this patient for TAKEOVER_HOURS."""
    now = current_time()
    with session_scope(runtime.db_url()) as db:
        person = patient_or_404(db, patient_id)
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
def release(patient_id: int):
    """Hand the conversation back to the bot."""
    now = current_time()
    with session_scope(runtime.db_url()) as db:
        person = patient_or_404(db, patient_id)
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
def reply(patient_id: int):
    """Text the patient as staff, through the outbox (queued, swept, checked again for consent when sent)."""
    body = " ".join((request.form.get("body") or "").split())
    now = current_time()
    if not body:
        flash("Write a message first.", "error")
        return redirect(url_for("dashboard.patient", patient_id=patient_id))
    if len(body) > MAX_REPLY:
        flash(f"Keep replies under {MAX_REPLY} characters.", "error")
        return redirect(url_for("dashboard.patient", patient_id=patient_id))
    with session_scope(runtime.db_url()) as db:
        person = patient_or_404(db, patient_id)
        if person.opted_out_at is not None:
            flash("This patient opted out: no texts may be sent until they text START.", "error")
            return redirect(url_for("dashboard.patient", patient_id=patient_id))
        sender = practice_number(db, person)
        # Through the outbox like every other text: queued, swept if its job is lost, and asked at the
        # last moment whether the patient has opted out since.
        message = outbox.queue_text(
            db,
            key=f"staff-{secrets.token_hex(12)}",
            to=person.phone,
            from_=sender or "",
            body=body,
            kind=MessageKind.STAFF,
            practice_id=person.practice_id,
            patient_id=person.id,
            staff_user_id=g.staff.id,
            now=now,
        )
        state = db.get(ConversationState, person.id) or ConversationState(patient_id=person.id)
        state.last_outbound_at, state.updated_at = now, now
        db.add(state)
        db.add(
            AuditEvent(
                practice_id=person.practice_id,
                actor=f"staff:{g.staff.id}",
                action="staff_reply",
                subject_type="patient",
                subject_id=patient_id,
                detail={"message_id": message.id},
                created_at=now,
            )
        )
        message_id = message.id
    try:
        outbox.enqueue([message_id])
    except RedisError as error:  # the outbox sweep sends it within a minute
        log.warning("staff reply %s waits for the sweep: %s", message_id, error)
    flash("Queued: it shows as sent in the thread in a moment.", "info")
    return redirect(url_for("dashboard.patient", patient_id=patient_id) + "#reply")


@bp.post("/patients/<int:patient_id>/phone")
def fix_phone(patient_id: int):
    """Correct a flagged patient's number: the flag is cleared and the care texts it stopped are planned again."""
    now = current_time()
    back = redirect(url_for("dashboard.patient", patient_id=patient_id))
    with session_scope(runtime.db_url()) as db:
        person = patient_or_404(db, patient_id)  # first: another location's patient is a 404 whatever was typed
        try:
            phone = phones.normalize(request.form.get("phone"), runtime.settings().default_country)
        except ValidationError:
            flash("That is not a phone number: write it with its area code, e.g. +1 512 555 0143.", "error")
            return back
        state = db.get(ConversationState, person.id)
        if person.flagged_at is None and not (state is not None and state.wrong_number):
            flash("Only a flagged number is fixed here; the practice system keeps the others.", "error")
            return back
        if phone == person.phone:
            flash("That is the number on file already.", "error")
            return back
        if erased_number(db, phone, person.practice_id) is not None:
            flash("That number belongs to a patient erased on request; it cannot be texted.", "error")
            return back
        old_phone, person.phone = person.phone, phone
        db.add(person)
        again = number_changed(db, person, old_phone, actor=f"staff:{g.staff.id}", now=now)
    flash(f"Number fixed; {again} care text(s) planned again.", "info")
    return back
