"""Corrections that teach: mark a decision wrong from a transcript, see the classifier measured on the
practice's corrections month by month, and download them as labeled JSONL for `aftercare eval`."""

from __future__ import annotations

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from sqlmodel import col, select

from bot import runtime
from bot.errors import ValidationError
from bot.metrics import corrections as teach
from bot.vocabulary import Direction, Intent, Urgency
from store.db import session_scope
from store.models import Correction, Message
from web.dashboard import bp
from web.dashboard.audit import record
from web.dashboard.context import my_places, practice_rows, row_or_404, staff_practice


@bp.get("/corrections")
def corrections():
    """The practice's corrections and the classifier's figures on them, per month."""
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        rows = db.exec(
            select(Correction, Message)
            .join(Message, col(Message.id) == Correction.message_id)
            .where(practice_rows(Correction.practice_id))
            .order_by(col(Correction.created_at).desc())
            .limit(50)
        ).all()
        return render_template(
            "corrections.html", practice=practice, rows=rows, months=teach.by_month(db, practice.id, my_places())
        )


@bp.get("/corrections.jsonl")
def export_corrections():
    """The corrections as labeled JSONL (the format `aftercare eval` reads): texts scrubbed of names and numbers."""
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        body = teach.export_jsonl(db, practice.id, places=my_places())
        record(db, "corrections_exported", format="jsonl", rows=body.count("\n"))
    return Response(
        body,
        mimetype="application/x-ndjson",
        headers={"Content-Disposition": f'attachment; filename="corrections-{practice.slug}.jsonl"'},
    )


@bp.get("/messages/<int:message_id>/correct")
def correct_form(message_id: int):
    """The form to mark one decision wrong."""
    with session_scope(runtime.db_url()) as db:
        staff_practice(db)
        message = row_or_404(db, Message, message_id, "No such text at this practice.")
        if message.direction != Direction.IN:
            abort(404, description="No such text at this practice.")
        existing = db.exec(select(Correction).where(Correction.message_id == message_id)).first()
        return render_template(
            "correct.html", message=message, existing=existing, intents=list(Intent), urgencies=list(Urgency)
        )


@bp.post("/messages/<int:message_id>/correct")
def correct_decision(message_id: int):
    """Record the right intent and urgency for a text (audited)."""
    form = request.form
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        message = row_or_404(db, Message, message_id, "No such text at this practice.")
        try:
            teach.correct(
                db,
                practice.id,
                message_id,
                form.get("intent", ""),
                form.get("urgency", ""),
                g.staff.id,
                form.get("note", ""),
            )
        except ValidationError as error:
            db.rollback()
            flash(str(error), "error")
            return redirect(url_for("dashboard.correct_form", message_id=message_id))
        patient_id = message.patient_id
    flash("Correction saved: it now counts in the classifier's figures and the export.", "info")
    return redirect(
        url_for("dashboard.patient", patient_id=patient_id) if patient_id else url_for("dashboard.corrections")
    )
