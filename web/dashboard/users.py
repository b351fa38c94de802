"""User accounts, managed by an admin in the app as with `aftercare staff`: list, add, change role, set a
member's own mobile number and email, limit to some locations (store.scope) or lift the limit, deactivate or
reactivate, reset a password (which ends every session of that user on the server).

Values go through the CLI's own checks (bot.staff.admin), so both refuse the same things; the practice
always keeps an active admin; every change is written to the audit log with who, when, before and after.
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlmodel import Session, col, select

from bot import runtime
from bot.messaging.phones import mask
from bot.staff.admin import MIN_PASSWORD, ROLES, AdminError, staff_add, staff_set
from store.db import session_scope
from store.models import AuditEvent, Location, StaffUser
from web import sessions
from web.dashboard import bp
from web.dashboard.context import current_time, staff_practice

ROLE_NAMES = {role: role.replace("_", " ") for role in ROLES}
"""Roles as the page names them."""


def _member_or_404(db: Session, staff_id: int) -> StaffUser:
    """A staff member of the signed-in admin's practice; any other id is 404."""
    person = db.get(StaffUser, staff_id)
    if person is None or person.practice_id != g.staff.practice_id:
        abort(404, description="No such staff member at this practice.")
    return person


def account(person: StaffUser, places: dict[int, str] | None = None) -> dict:
    """What the audit log keeps of an account before and after a change (never the password hash);
    `places` names the practice's locations for the location limit."""
    return {
        "name": person.name,
        "email": person.email,
        "role": person.role,
        "active": person.active,
        "medical_director": person.medical_director,
        "phone": mask(person.phone) if person.phone else None,
        "locations": [(places or {}).get(i, f"location {i}") for i in person.location_ids]
        if person.location_ids
        else "all",
    }


def _places(db: Session, practice_id: int) -> dict[int, str]:
    """The practice's locations by id, in the order the page lists them."""
    found = db.exec(select(Location).where(Location.practice_id == practice_id).order_by(col(Location.name)))
    return {place.id: place.name for place in found}


def _audit(db: Session, action: str, person: StaffUser, before: dict | None, after: dict | None, **extra) -> None:
    """Who changed whose account, when, and what it was before and after."""
    db.add(
        AuditEvent(
            practice_id=person.practice_id,
            actor=f"staff:{g.staff.id}",
            action=action,
            subject_type="staff_user",
            subject_id=person.id,
            detail={"before": before, "after": after, **extra},
            created_at=current_time(),
        )
    )


def _refused(db: Session, error: AdminError | str):
    db.rollback()
    flash(f"{error}; nothing was changed.", "error")
    return redirect(url_for("dashboard.users"))


def _new_password(form) -> str:
    password = form.get("password") or ""
    if len(password) < MIN_PASSWORD or password != (form.get("again") or ""):
        raise AdminError(f"password: at least {MIN_PASSWORD} characters, typed the same twice")
    return password


@bp.get("/users")
def users():
    """The practice's staff accounts: role, sign-in, active or not."""
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        people = db.exec(
            select(StaffUser)
            .where(StaffUser.practice_id == practice.id)
            .order_by(col(StaffUser.active).desc(), col(StaffUser.name))
        ).all()
        return render_template(
            "users.html",
            practice=practice,
            people=people,
            roles=ROLE_NAMES,
            min_password=MIN_PASSWORD,
            mask=mask,
            places=_places(db, practice.id),
        )


@bp.post("/users")
def add_user():
    """Add a staff member with a role and a first password (checked as `aftercare staff add` checks)."""
    form = request.form
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        try:
            email = (form.get("email") or "").strip()
            if not email:
                raise AdminError("email: needed to sign in")
            person = staff_add(
                db,
                practice.slug,
                form.get("name") or "",
                form.get("role") or "",
                phone=(form.get("phone") or "").strip() or None,
                email=email,
                password=_new_password(form),
                locations=form.getlist("locations", type=int),
            )
        except AdminError as error:
            return _refused(db, error)
        _audit(db, "user_added", person, None, account(person, _places(db, practice.id)))
        flash(f"{person.name} can sign in as {ROLE_NAMES[person.role]} with {person.email}.", "info")
    return redirect(url_for("dashboard.users"))


@bp.post("/users/<int:staff_id>/role")
def change_user_role(staff_id: int):
    """Give a staff member another role (the last admin keeps theirs)."""
    with session_scope(runtime.db_url()) as db:
        person = _member_or_404(db, staff_id)
        before = account(person)
        try:
            role = request.form.get("role") or ""
            if role not in ROLES:
                raise AdminError(f"role: expected one of {', '.join(ROLE_NAMES.values())}")
            staff_set(db, person.id, role=role)
        except AdminError as error:
            return _refused(db, error)
        if account(person) != before:
            _audit(db, "user_role_changed", person, before, account(person))
            flash(f"{person.name} is now {ROLE_NAMES[person.role]}.", "info")
    return redirect(url_for("dashboard.users"))


def save_contact(db: Session, person: StaffUser, form) -> str:
    """Set a staff member's own mobile number (to E.164 as `aftercare staff set --phone` does) and email from
    a form, audited as `user_contact_changed` with the phones masked; what the page says. The number is never
    shown whole, so an empty number keeps it and `remove_phone` removes it; an empty email removes it.
    AdminError, with the session to roll back, when a value is refused."""
    before = account(person)
    phone = "" if form.get("remove_phone") else ((form.get("phone") or "").strip() or None)
    staff_set(db, person.id, phone=phone, email=(form.get("email") or "").strip())
    after = account(person)
    if after == before:
        return f"{person.name}: nothing to change."
    _audit(db, "user_contact_changed", person, before, after)
    return f"{person.name}: mobile {after['phone'] or 'none'}, email {after['email'] or 'none'}."


@bp.post("/users/<int:staff_id>/contact")
def change_user_contact(staff_id: int):
    """A staff member's own mobile number and email (checked as the CLI checks them; "" removes one)."""
    with session_scope(runtime.db_url()) as db:
        person = _member_or_404(db, staff_id)
        try:
            flash(save_contact(db, person, request.form), "info")
        except AdminError as error:
            return _refused(db, error)
    return redirect(url_for("dashboard.users"))


@bp.post("/users/<int:staff_id>/locations")
def set_user_locations(staff_id: int):
    """Limit a staff member to the ticked locations (they see only those locations' patients, texts and
    figures), or lift the limit when none is ticked; takes effect on their next page."""
    with session_scope(runtime.db_url()) as db:
        person = _member_or_404(db, staff_id)
        places = _places(db, person.practice_id)
        before = account(person, places)
        try:
            wanted = request.form.getlist("locations", type=int)
            if person.id == g.staff.id and wanted:
                raise AdminError("your own account: another admin limits it, so you cannot lock yourself out")
            staff_set(db, person.id, locations=wanted)
        except AdminError as error:
            return _refused(db, error)
        after = account(person, places)
        if after != before:
            _audit(db, "user_locations_changed", person, before, after)
            shown = ", ".join(after["locations"]) if person.location_ids else "every location"
            flash(f"{person.name} now sees {shown}.", "info")
    return redirect(url_for("dashboard.users"))


@bp.post("/users/<int:staff_id>/active")
def set_user_active(staff_id: int):
    """Deactivate (signed out at once, no sign-in, no pages) or reactivate a staff member."""
    wanted = request.form.get("active")
    with session_scope(runtime.db_url()) as db:
        person = _member_or_404(db, staff_id)
        before = account(person)
        try:
            if wanted not in ("0", "1"):
                raise AdminError("active: expected 1 (reactivate) or 0 (deactivate)")
            # Off call too: a page must never go to someone who has left.
            changes = {"active": True} if wanted == "1" else {"active": False, "on_call": False, "backup": False}
            if wanted == "0":
                changes["medical_director"] = False  # nor sign off texts
            staff_set(db, person.id, **changes)
        except AdminError as error:
            return _refused(db, error)
        if account(person) == before:
            return redirect(url_for("dashboard.users"))
        _audit(db, "user_reactivated" if person.active else "user_deactivated", person, before, account(person))
        flash(f"{person.name} is {'active again' if person.active else 'deactivated and signed out'}.", "info")
    if wanted == "0":
        sessions.end_all(staff_id)  # after the commit: a sign-in racing this finds the account inactive
    return redirect(url_for("dashboard.users"))


@bp.post("/users/<int:staff_id>/medical-director")
def set_medical_director(staff_id: int):
    """Mark a staff member as the practice's medical director (who signs off the aftercare texts), or not."""
    wanted = request.form.get("medical_director")
    with session_scope(runtime.db_url()) as db:
        person = _member_or_404(db, staff_id)
        before = account(person)
        try:
            if wanted not in ("0", "1"):
                raise AdminError("medical director: expected 1 (mark) or 0 (unmark)")
            if wanted == "1" and not person.active:
                raise AdminError(f"{person.name} is deactivated: reactivate them first")
            staff_set(db, person.id, medical_director=wanted == "1")
        except AdminError as error:
            return _refused(db, error)
        if account(person) != before:
            _audit(db, "user_medical_director_changed", person, before, account(person))
            flash(
                f"{person.name} {'is' if person.medical_director else 'is no longer'} the medical director "
                "who signs off the aftercare texts.",
                "info",
            )
    return redirect(url_for("dashboard.users"))


@bp.post("/users/<int:staff_id>/password")
def reset_user_password(staff_id: int):
    """Set a new password for a staff member; every session of theirs ends on every device."""
    with session_scope(runtime.db_url()) as db:
        person = _member_or_404(db, staff_id)
        try:
            if person.id == g.staff.id:
                raise AdminError("your own password: change it under Password, which asks for the current one")
            staff_set(db, person.id, password=_new_password(request.form))
        except AdminError as error:
            return _refused(db, error)
        _audit(db, "user_password_reset", person, account(person), account(person), signed_out="everywhere")
        name = person.name
    # After the commit: a sign-in racing this one with the old password cannot outlive it.
    ended = sessions.end_all(staff_id)
    flash(f"New password set for {name}; {ended} session(s) of theirs ended.", "info")
    return redirect(url_for("dashboard.users"))
