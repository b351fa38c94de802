"""Settings: the treatments and what one visit of each costs in product and supplies, so Operations ranks
treatments by profit (revenue minus cost). Amounts are exact cents; a bad one is refused with its treatment
and nothing changes; each save is audited with the costs before and after."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlmodel import col, select

from bot import runtime
from bot.staff.admin import AdminError, service_costs_set
from store.db import session_scope
from store.models import Service
from web.dashboard import bp
from web.dashboard.context import current_time, staff_practice
from web.dashboard.settings_common import SECTIONS, audit_change


def _costs(services) -> dict:
    """The costs as the audit log keeps them: per service code, product and supplies as text ("" unset)."""
    return {
        s.code: {
            "product": "" if s.product_cost is None else str(s.product_cost),
            "supplies": "" if s.supply_cost is None else str(s.supply_cost),
        }
        for s in services
    }


@bp.get("/settings/treatments")
def treatments_page():
    """Every treatment on the menu with its price, and its product and supply cost per visit."""
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        services = db.exec(
            select(Service).where(Service.practice_id == practice.id).order_by(col(Service.category), col(Service.name))
        ).all()
        return render_template("settings_treatments.html", practice=practice, sections=SECTIONS, services=services)


@bp.post("/settings/treatments")
def save_treatment_costs():
    """Check and save every treatment's costs (all or nothing)."""
    form = request.form
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        services = db.exec(select(Service).where(Service.practice_id == practice.id)).all()
        before = _costs(services)
        wanted = {
            s.id: (form.get(f"product:{s.id}") or "", form.get(f"supplies:{s.id}") or "")
            for s in services
            if f"product:{s.id}" in form or f"supplies:{s.id}" in form
        }
        try:
            service_costs_set(db, practice.id, wanted)
        except AdminError as error:
            db.rollback()
            flash(f"{error}; nothing was changed.", "error")
            return redirect(url_for("dashboard.treatments_page"))
        after = _costs(services)
        changed = {code for code in after if after[code] != before[code]}
        audit_change(
            db,
            practice.id,
            "treatment_costs_changed",
            "practice",
            practice.id,
            {code: before[code] for code in sorted(changed)},
            {code: after[code] for code in sorted(changed)},
            current_time(),
        )
    flash(
        f"Saved the costs of {len(changed)} treatment(s): Operations ranks by profit with them."
        if changed
        else "Nothing to change.",
        "info",
    )
    return redirect(url_for("dashboard.treatments_page"))
