"""A patient's data on request, from the patient's page: a manager exports everything held as JSON, an
admin erases it (only the opt-out stays, under a keyed hash of the number). Both are what
`aftercare patient export` and `erase` do, kept to the signed-in practice, and audited with who did it.
"""

from __future__ import annotations

import json

from flask import Response, flash, g, redirect, request, url_for

from bot import runtime
from bot.consent.privacy import erase_patient, export_patient, is_erased
from store.db import session_scope
from web.dashboard import bp
from web.dashboard.context import patient_or_404, staff_practice

CONFIRM_WORD = "ERASE"
"""What an admin types to confirm an erasure: it cannot be undone."""


@bp.get("/patients/<int:patient_id>/export.json")
def export_patient_data(patient_id: int):
    """Everything held about this patient, as a JSON download (the export is audited)."""
    with session_scope(runtime.db_url()) as db:
        staff_practice(db)
        person = patient_or_404(db, patient_id)
        data = export_patient(db, person.id, actor=f"staff:{g.staff.id}")
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False, default=str),
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="patient-{patient_id}.json"',
            "Cache-Control": "no-store",  # health information: no copy in a shared browser cache
        },
    )


@bp.post("/patients/<int:patient_id>/erase")
def erase_patient_data(patient_id: int):
    """Erase this patient for good once the admin has typed the confirmation word."""
    page = url_for("dashboard.patient", patient_id=patient_id)
    with session_scope(runtime.db_url()) as db:
        staff_practice(db)
        person = patient_or_404(db, patient_id)
        if is_erased(person):
            flash("This patient was already erased.", "info")
            return redirect(page)
        if (request.form.get("confirm") or "").strip() != CONFIRM_WORD:
            flash(f"Type {CONFIRM_WORD} to confirm the erasure; nothing was erased.", "error")
            return redirect(page)
        erase_patient(db, person.id, actor=f"staff:{g.staff.id}")
    flash("Erased: texts, visits, planned texts and details are gone; only the opt-out stays.", "info")
    return redirect(page)
