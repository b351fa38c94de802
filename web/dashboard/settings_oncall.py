"""Settings: the on-call roster, by location, weekday and local hours, with backups; and who would be
paged right now, asked of the paging code itself."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlmodel import col, select

from bot import runtime
from bot.messaging.phones import mask
from bot.staff import paging, roster
from bot.staff.admin import AdminError
from bot.vocabulary import OnCallDuty, Urgency
from store.db import session_scope
from store.models import Escalation, Location, OnCallShift, StaffUser
from web.dashboard import bp
from web.dashboard.context import current_time, staff_practice
from web.dashboard.settings_common import SECTIONS, audit_change
from web.dashboard.users import save_contact


def _line_view(line: OnCallShift, staff: dict, places: dict) -> dict:
    return {
        "id": line.id,
        "staff": staff[line.staff_user_id].name if line.staff_user_id in staff else "?",
        "duty": line.duty,
        "weekday": roster.WEEKDAYS[line.weekday],
        "hours": f"{line.start}-{line.end}",
        "location": places[line.location_id].name if line.location_id in places else "Every location",
    }


def _paged_now(db, practice_id: int, locations: list[Location]) -> list[dict]:
    """Per location, who an urgent and an emergency page would reach now: the paging code's own choice."""
    now = current_time()
    found = []
    for place in locations or [None]:
        names = {}
        for urgency in (Urgency.URGENT, Urgency.EMERGENCY):
            probe = Escalation(practice_id=practice_id, urgency=urgency, reason="roster check")  # never written
            names[urgency.value] = [p.name for p in paging.recipients(db, probe, 1, now, location=place)]
        found.append({"location": place.name if place else "The practice", **names})
    return found


@bp.get("/settings/on-call")
def on_call():
    """The roster by location and weekday, and who a page would reach now."""
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        staff = {
            s.id: s
            for s in db.exec(
                select(StaffUser).where(StaffUser.practice_id == practice.id).order_by(col(StaffUser.name))
            )
        }
        locations = list(
            db.exec(select(Location).where(Location.practice_id == practice.id).order_by(col(Location.id)))
        )
        places = {loc.id: loc for loc in locations}
        return render_template(
            "settings_oncall.html",
            practice=practice,
            sections=SECTIONS,
            lines=[_line_view(line, staff, places) for line in roster.lines(db, practice.id)],
            staff=[s for s in staff.values() if s.active],
            locations=locations,
            weekdays=list(enumerate(roster.WEEKDAYS)),
            duties=tuple(OnCallDuty),
            paged_now=_paged_now(db, practice.id, locations),
            standing=[s.name for s in staff.values() if s.active and s.on_call],
            standing_backup=[s.name for s in staff.values() if s.active and s.backup],
            mask=mask,
        )


@bp.post("/settings/on-call")
def add_on_call():
    """Add roster lines: one staff member, a duty, the weekdays ticked, local hours, a location or all."""
    now = current_time()
    form = request.form
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        try:
            staff_id = int(form.get("staff_id") or 0)
            location_id = int(form["location_id"]) if form.get("location_id") else None
            weekdays = [int(day) for day in form.getlist("weekday")]
        except ValueError:
            flash("staff, location or days: not a choice from the form; nothing was changed", "error")
            return redirect(url_for("dashboard.on_call"))
        try:
            added = roster.add_shift(
                db,
                practice.id,
                staff_id,
                form.get("duty") or "",
                weekdays,
                form.get("start") or "",
                form.get("end") or "",
                location_id,
            )
        except AdminError as error:
            db.rollback()
            flash(f"{error}; nothing was changed", "error")
            return redirect(url_for("dashboard.on_call"))
        after = [_line_record(line) for line in added]
        audit_change(
            db, practice.id, "on_call_changed", "on_call_shift", added[0].id, {"added": []}, {"added": after}, now
        )
    flash(f"Added {len(added)} roster line{'s' if len(added) != 1 else ''}.", "info")
    return redirect(url_for("dashboard.on_call"))


@bp.post("/settings/on-call/staff/<int:staff_id>/contact")
def save_on_call_contact(staff_id: int):
    """A staff member's own mobile number and email, where the roster needs them (the Users page's checks
    and audit: `user_contact_changed`)."""
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        person = db.get(StaffUser, staff_id)
        if person is None or person.practice_id != practice.id:
            flash("No such staff member at this practice.", "error")
            return redirect(url_for("dashboard.on_call"))
        try:
            flash(save_contact(db, person, request.form), "info")
        except AdminError as error:
            db.rollback()
            flash(f"{error}; nothing was changed", "error")
    return redirect(url_for("dashboard.on_call", _anchor="contacts"))


@bp.post("/settings/on-call/<int:line_id>/remove")
def remove_on_call(line_id: int):
    """Take one line off the roster."""
    now = current_time()
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        line = db.get(OnCallShift, line_id)
        if line is None or line.practice_id != practice.id:
            flash("No such roster line.", "error")
            return redirect(url_for("dashboard.on_call"))
        before = _line_record(line)
        db.delete(line)
        audit_change(db, practice.id, "on_call_changed", "on_call_shift", line_id, {"removed": before}, {}, now)
    flash("Removed from the roster.", "info")
    return redirect(url_for("dashboard.on_call"))


def _line_record(line: OnCallShift) -> dict:
    """A roster line as the audit log keeps it."""
    return {
        "staff_user_id": line.staff_user_id,
        "duty": line.duty,
        "weekday": roster.WEEKDAYS[line.weekday],
        "start": line.start,
        "end": line.end,
        "location_id": line.location_id,
    }
