"""Growth pages: the upsell matrix (managers edit it; each save is a version), segments, and what they show."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import flash, g, redirect, render_template, request, url_for
from sqlmodel import col, select

from bot import runtime
from bot.clock import to_local, to_utc
from bot.errors import MatrixError
from bot.growth import matrix
from bot.growth.matrix_form import from_form, to_form
from bot.growth.offers import phrase
from bot.growth.ready import prompt, ready_this_week, send_now
from bot.growth.segments import counts, standings
from bot.touches.plans import CATEGORIES, plans_for
from bot.vocabulary import Segment
from store.db import session_scope
from store.models import Appointment, Patient, Service
from web import permissions
from web.dashboard import bp
from web.dashboard.context import current_time, my_places, patient_or_404, practice_rows, staff_practice

SEGMENT_LIST_LIMIT = 50
"""Patients listed per segment on the segments page (the counts cover everyone)."""


@bp.get("/offers/matrix")
def matrix_page():
    """The practice's upsell matrix, its versions, and (for managers) the form that saves a new version."""
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        current = matrix.current(db, practice.id)
        return render_template(
            "offers_matrix.html",
            practice=practice,
            matrix=current,
            form=to_form(current),
            versions=matrix.versions(db, practice.id),
            editable=permissions.may(g.staff.role, "edit_matrix"),
        )


@bp.post("/offers/matrix")
def save_matrix():
    """Check the form and store it as the next version (a mistake is refused with its reason and changes nothing)."""
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        current = matrix.current(db, practice.id)
        categories = set(CATEGORIES) | set(db.exec(select(Service.category).where(Service.practice_id == practice.id)))
        try:
            document = from_form(request.form, current, categories)
            if document == current.document:
                flash("Nothing changed.", "info")
                return redirect(url_for("dashboard.matrix_page"))
            saved = matrix.save(db, practice.id, document, f"staff:{g.staff.id}")
        except MatrixError as error:
            db.rollback()
            flash(f"Not saved: {error}", "error")
            return redirect(url_for("dashboard.matrix_page"))
    flash(f"Saved as version {saved.version}: offers made from now on record it.", "info")
    return redirect(url_for("dashboard.matrix_page"))


@bp.get("/offers/segments")
def segments_page():
    """How many patients are in each segment, and who (the first SEGMENT_LIST_LIMIT of each)."""
    now = current_time()
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        current = matrix.current(db, practice.id)
        names = {
            p.id: f"{p.first_name or ''} {p.last_name or ''}".strip() or f"patient {p.id}"
            for p in db.exec(select(Patient).where(practice_rows(Patient.practice_id)))
        }
        found = {pid: s for pid, s in standings(db, practice.id, current, now).items() if pid in names}
        members = {
            segment.value: sorted(
                (s for s in found.values() if segment in s.segments),
                key=lambda s: (-s.treatments, names.get(s.patient_id, "")),
            )[:SEGMENT_LIST_LIMIT]
            for segment in Segment
        }
        return render_template(
            "offers_segments.html",
            practice=practice,
            totals=counts(found),
            members=members,
            names=names,
            settings=current.settings["segments"],
            version=current.version,
        )


@bp.get("/offers/ready")
def ready_page():
    """Ready this week: the patients most likely to accept an offer now, with the suggested offer."""
    now = current_time()
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        table = matrix.current(db, practice.id)
        return render_template(
            "offers_ready.html",
            practice=practice,
            rows=ready_this_week(db, practice.id, table, now, places=my_places()),
            phrase=phrase,
            may_send=permissions.may(g.staff.role, "send_offers"),
        )


@bp.post("/offers/ready/<int:patient_id>/send")
def send_offer(patient_id: int):
    """One click: the suggested offer goes as an offer touch due now; consent, quiet hours, caps, opt-out,
    suppression and the kill switch decide as for every touch."""
    now = current_time()
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        patient_or_404(db, patient_id)
        table = matrix.current(db, practice.id)
        offer = send_now(db, plans_for(runtime.settings()), table, patient_id, g.staff.id, now)
        if offer is None:
            flash(
                "That patient is no longer ready for an offer (offered meanwhile, opted out, or nothing fits).", "error"
            )
            return redirect(url_for("dashboard.ready_page"))
        item = offer.item
    flash(f"Queued: {item}. It goes at the next allowed minute, if every sending rule allows it.", "info")
    return redirect(url_for("dashboard.ready_page"))


@bp.get("/offers/today")
def today_page():
    """Today's booked visits, each with the staff prompt: history, last visit, retail gaps, one mention."""
    now = current_time()
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        table = matrix.current(db, practice.id)
        zone = ZoneInfo(practice.timezone)
        day = to_local(now, practice.timezone).date()
        start = datetime.combine(day, time(0), tzinfo=zone)
        visits = db.exec(
            select(Appointment)
            .where(
                practice_rows(Appointment.practice_id),
                col(Appointment.status).in_(("booked", "requested")),
                Appointment.start_at >= to_utc(start),
                Appointment.start_at < to_utc(start + timedelta(days=1)),
            )
            .order_by(col(Appointment.start_at))
        ).all()
        prompts = [prompt(db, visit, table, now) for visit in visits]
        return render_template("offers_today.html", practice=practice, prompts=prompts, day=day)
