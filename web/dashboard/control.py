"""Control of the bot: the practice's kill switch and, per intent, how freely the bot answers."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from bot import runtime
from bot.conversation import autonomy
from bot.vocabulary import CONTROLLED_INTENTS, Autonomy
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
        chosen = practice.autonomy or {}
        rows = [(intent, chosen.get(intent, Autonomy.AUTO)) for intent in CONTROLLED_INTENTS]
        return render_template("control.html", practice=practice, rows=rows, choices=tuple(Autonomy))


@bp.post("/control/autonomy")
def set_autonomy():
    """Per intent: send automatically, draft for staff approval, or off (safety replies always go)."""
    form = {key.removeprefix("intent:"): value for key, value in request.form.items() if key.startswith("intent:")}
    chosen, errors = autonomy.parse(form)
    if errors:
        for error in errors:
            flash(error, "error")
        return redirect(url_for("dashboard.control"))
    now = current_time()
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        before = dict(practice.autonomy or {})
        after = {**before, **{intent: value for intent, value in chosen.items()}}
        for intent in form:
            if intent not in chosen:
                after.pop(intent, None)  # back to auto
        if after != before:
            practice.autonomy = after
            db.add(practice)
            db.add(
                AuditEvent(
                    practice_id=practice.id,
                    actor=f"staff:{g.staff.id}",
                    action="autonomy_changed",
                    subject_type="practice",
                    subject_id=practice.id,
                    detail={"before": before, "after": after},
                    created_at=now,
                )
            )
    flash("Saved: the bot's autonomy per intent.", "info")
    return redirect(url_for("dashboard.control"))


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
