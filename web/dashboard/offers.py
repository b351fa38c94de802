"""Growth pages: the upsell matrix (managers edit it; each save is a version), segments, and what they show."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from sqlmodel import select

from bot import runtime
from bot.errors import MatrixError
from bot.growth import matrix
from bot.growth.matrix_form import from_form, to_form
from bot.growth.segments import counts, standings
from bot.touches.plans import CATEGORIES
from bot.vocabulary import Segment
from store.db import session_scope
from store.models import Patient, Service
from web import permissions
from web.dashboard import bp
from web.dashboard.context import current_time, staff_practice

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
        found = standings(db, practice.id, current, now)
        names = {
            p.id: f"{p.first_name or ''} {p.last_name or ''}".strip() or f"patient {p.id}"
            for p in db.exec(select(Patient).where(Patient.practice_id == practice.id))
        }
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
