"""Visits the front desk settles: a time a patient picked by text is confirmed or declined."""

from __future__ import annotations

from flask import flash, g, redirect, url_for

from bot import runtime
from bot.messaging import outbox
from handlers.rebook import settle_request as settle
from store.db import session_scope
from store.models import Appointment, AuditEvent
from web.dashboard import bp
from web.dashboard.context import current_time, row_or_404


@bp.post("/appointments/<int:appointment_id>/<any(confirm, decline):answer>")
def settle_request(appointment_id: int, answer: str):
    """The front desk books a time a patient picked by text (after entering it in the practice system), or declines it."""
    now = current_time()
    with session_scope(runtime.db_url()) as db:
        appointment = row_or_404(db, Appointment, appointment_id, "No such appointment.")
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
