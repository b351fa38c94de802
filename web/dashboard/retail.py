"""Recording a retail sale at the desk, on the patient's page: what was bought, for how much, against which
retail offer (or matched to the latest one of that item); audited as `retail_sale_recorded`."""

from __future__ import annotations

from flask import flash, g, redirect, request, url_for

from bot import runtime
from bot.growth import retail
from store.db import session_scope
from web.dashboard import audit, bp
from web.dashboard.context import current_time, patient_or_404


@bp.post("/patients/<int:patient_id>/retail-sales")
def record_sale(patient_id: int):
    """Record one retail sale; a mistake is refused with the field and the reason, and changes nothing."""
    now = current_time()
    back = redirect(url_for("dashboard.patient", patient_id=patient_id) + "#retail")
    with session_scope(runtime.db_url()) as db:
        person = patient_or_404(db, patient_id)  # another practice's (or location's) patient: a 404
        offer_id = request.form.get("offer_id", type=int) or None
        try:
            amount = retail.amount_of(request.form.get("amount"))
            sale = retail.record(
                db, person, request.form.get("item", ""), amount, now, staff_id=g.staff.id, offer_id=offer_id
            )
        except retail.SaleError as error:
            db.rollback()
            flash(f"Not recorded: {error}.", "error")
            return back
        audit.record(
            db,
            "retail_sale_recorded",
            "patient",
            person.id,
            item=sale.item,
            amount=str(sale.amount),
            offer_id=sale.offer_id,
        )
        item, amount_text, matched = sale.item, f"${sale.amount:,.2f}", sale.offer_id is not None
    flash(
        f"Recorded: {item}, {amount_text}"
        + (" (counted for its offer)." if matched else " (no offer of it to count for)."),
        "info",
    )
    return back
