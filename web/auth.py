"""Staff sign-in for the dashboard: email and password, a Flask session, CSRF tokens for every form."""

from __future__ import annotations

import hmac
import secrets
from functools import wraps

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from sqlalchemy import func
from sqlmodel import select
from werkzeug.exceptions import HTTPException
from werkzeug.security import check_password_hash

from bot import runtime
from store.db import session_scope
from store.models import AuditEvent, StaffUser

bp = Blueprint("auth", __name__)


@bp.record_once
def _cookie_settings(state):
    # Lax keeps the session cookie off cross-site POSTs: a second line behind the CSRF token.
    if state.app.config.get("SESSION_COOKIE_SAMESITE") is None:
        state.app.config["SESSION_COOKIE_SAMESITE"] = "Lax"


# Checked when the email is unknown too, so a wrong email takes as long as a wrong password.
_DUMMY_HASH = "scrypt:32768:8:1$bqVbcOjQYO9NoWxd$" + "0" * 128


def render_error(error: HTTPException):
    """A page in the dashboard's style for 400/403/404 (JSON for the simulator's API)."""
    if "/api/" in request.path:
        return {"error": error.description}, error.code
    return render_template("error.html", code=error.code, title=error.name, description=error.description), error.code


for _code in (400, 403, 404):
    bp.register_error_handler(_code, render_error)


def csrf_token() -> str:
    """This session's CSRF token (created on first use)."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """Refuse a state-changing request whose form field or header does not carry the session's token."""
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    expected = session.get("csrf") or ""
    if not expected or not hmac.compare_digest(sent, expected):
        abort(400, description="The form expired or came from elsewhere. Reload the page and try again.")


@bp.app_context_processor
def _template_helpers():
    return {
        "csrf_token": csrf_token,
        "current_staff": g.get("staff"),
        "email_off": not runtime.settings().email_enabled,
    }


def load_staff() -> StaffUser | None:
    """The signed-in staff user, or None (cached on `g` for the request)."""
    if "staff" in g:
        return g.staff
    staff = None
    staff_id = session.get("staff_id")
    if staff_id is not None:
        with session_scope(runtime.db_url()) as db:
            staff = db.get(StaffUser, staff_id)
        if staff is not None and not staff.active:
            staff = None
    g.staff = staff
    return staff


def login_required(view):
    """Send anyone not signed in to the sign-in page; POSTs also need the CSRF token."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if load_staff() is None:
            return redirect(
                url_for("auth.login", next=request.full_path.rstrip("?") if request.method == "GET" else None)
            )
        if request.method == "POST":
            check_csrf()
        return view(*args, **kwargs)

    return wrapper


def manager_required(view):
    """Only managers (the numbers page)."""

    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if g.staff.role != "manager":
            abort(403, description="Only managers can see this page.")
        return view(*args, **kwargs)

    return wrapper


def safe_next(target: str | None) -> str:
    # Only paths on this site: an open redirect would make the sign-in page a phishing aid.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("dashboard.inbox")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with email and password."""
    if request.method == "GET":
        if load_staff() is not None:
            return redirect(safe_next(request.args.get("next")))
        return render_template("login.html", next=request.args.get("next", ""), email="")
    check_csrf()
    email = (request.form.get("email") or "").strip().lower()
    password = request.form.get("password") or ""
    with session_scope(runtime.db_url()) as db:
        staff = db.exec(select(StaffUser).where(func.lower(StaffUser.email) == email, StaffUser.active == True)).first()  # noqa: E712
        valid = check_password_hash(staff.password_hash if staff and staff.password_hash else _DUMMY_HASH, password)
        if not (staff and staff.password_hash and valid):
            flash("That email and password do not match a staff account.", "error")
            return render_template("login.html", next=request.form.get("next", ""), email=email), 401
        db.add(
            AuditEvent(
                practice_id=staff.practice_id,
                actor=f"staff:{staff.id}",
                action="signed_in",
                subject_type="staff_user",
                subject_id=staff.id,
                created_at=runtime.clock().now(),
            )
        )
        staff_id = staff.id
    session.clear()
    session["staff_id"] = staff_id
    csrf_token()
    return redirect(safe_next(request.form.get("next")))


@bp.post("/logout")
def logout():
    """Sign out."""
    check_csrf()
    session.clear()
    flash("Signed out.", "info")
    return redirect(url_for("auth.login"))
