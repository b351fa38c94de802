"""Control of the bot: the practice's kill switch and, per intent, how freely the bot answers."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from bot import runtime
from store.db import session_scope
from store.models import AuditEvent, Practice, StaffUser
from web.auth import load_staff
from web.dashboard import bp
from web.dashboard.context import current_time, staff_practice


@bp.app_context_processor
def _kill_switch_banner():
    """Every dashboard page says so while the practice's kill switch is on."""
    staff = load_staff()
    if staff is None:
        return {"bot_paused": None}
    with session_scope(runtime.db_url()) as db:
        practice = db.get(Practice, staff.practice_id)
        if practice is None or practice.paused_at is None:
            return {"bot_paused": None}
        by = db.get(StaffUser, practice.paused_by) if practice.paused_by else None
        return {"bot_paused": {"at": practice.paused_at, "by": by.name if by else None}}


@bp.get("/control")
def control():
    """The kill switch and the bot's autonomy per intent."""
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        return render_template("control.html", practice=practice)


@bp.post("/control/kill-switch")
def kill_switch():
    """Turn the kill switch on (no touch or bot reply leaves; paging and safety replies still do) or off."""
    turn_on = request.form.get("state") == "on"
    now = current_time()
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        before = practice.paused_at is not None
        if before != turn_on:
            practice.paused_at, practice.paused_by = (now, g.staff.id) if turn_on else (None, None)
            db.add(practice)
            db.add(
                AuditEvent(
                    practice_id=practice.id,
                    actor=f"staff:{g.staff.id}",
                    action="kill_switch_on" if turn_on else "kill_switch_off",
                    subject_type="practice",
                    subject_id=practice.id,
                    detail={"before": "on" if before else "off", "after": "on" if turn_on else "off"},
                    created_at=now,
                )
            )
    if turn_on:
        flash("Kill switch on: no touch and no bot reply leaves. Paging and safety replies still go.", "error")
    else:
        flash("Kill switch off: held touches go out as due; replies held meanwhile wait in the inbox.", "info")
    return redirect(url_for("dashboard.control"))
