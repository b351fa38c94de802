"""Staff sign-in: Flask-Login over Redis-held sessions, throttled sign-in, global CSRF, and the one
check that every request passes before its view runs (web.permissions says who may call what)."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, session, url_for
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy import func
from sqlmodel import select
from werkzeug.exceptions import HTTPException
from werkzeug.security import check_password_hash, generate_password_hash

from bot import runtime
from bot.queue import redis_url
from store.db import session_scope
from store.models import AuditEvent, StaffUser
from web import permissions, sessions

bp = Blueprint("auth", __name__)

LOGIN_LIMIT_PER_ACCOUNT = "10 per minute"
"""Wrong passwords one account may take; the next attempt is refused for the rest of the minute."""

LOGIN_LIMIT_PER_ADDRESS = "30 per minute"
"""Wrong passwords one address may try, across accounts."""

MIN_PASSWORD = 10
"""Characters a new password needs at least (as `aftercare staff add` asks)."""

# Checked when the email is unknown too, so a wrong email takes as long as a wrong password.
_DUMMY_HASH = "scrypt:32768:8:1$bqVbcOjQYO9NoWxd$" + "0" * 128

csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[], strategy="fixed-window")


class SignedIn(UserMixin):
    """The signed-in staff member as Flask-Login sees them: the id it stores is the session token."""

    def __init__(self, staff: StaffUser, token: str):
        self.staff, self.token = staff, token

    def get_id(self) -> str:
        return self.token


@login_manager.user_loader
def _load(token: str) -> SignedIn | None:
    staff_id = sessions.staff_of(token)
    if staff_id is None:
        return None
    with session_scope(runtime.db_url()) as db:
        staff = db.get(StaffUser, staff_id)
    if staff is None or not staff.active:
        return None
    return SignedIn(staff, token)


def init_app(app) -> None:
    """Cookies, CSRF, Flask-Login, the sign-in limiter and the permission check, on the whole app."""
    settings = runtime.settings()
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",  # off cross-site POSTs: a second line behind the CSRF token
        SESSION_COOKIE_SECURE=bool(settings.public_base_url and settings.public_base_url.startswith("https://")),
        WTF_CSRF_TIME_LIMIT=None,  # a token lives as long as its session, which expires on its own
        RATELIMIT_STORAGE_URI=_limiter_storage(redis_url(settings)),
        RATELIMIT_HEADERS_ENABLED=True,
    )
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = None  # the server-side session is the protection
    limiter.init_app(app)
    hooks = app.before_request_funcs[None]
    hooks[hooks.index(limiter._check_request_limit)] = _check_limits
    app.before_request(_check_permission)
    app.register_error_handler(CSRFError, _csrf_refused)
    app.register_error_handler(429, _throttled)


def _check_limits():
    """The limiter's check before a view, skipped for the machine endpoints (Twilio's signed webhooks, the
    HMAC and bearer-token API): they authenticate every request themselves and carry no limit, and the
    limiter looking for one cost every inbound text 0.15-0.3 ms. Sign-in's limits are checked by their
    decorators (LOGIN_LIMIT_PER_ACCOUNT, LOGIN_LIMIT_PER_ADDRESS)."""
    if request.endpoint in permissions.MACHINE:
        return None
    return limiter._check_request_limit()


def _limiter_storage(url: str) -> str:
    # limits names a Redis socket redis+unix://; the embedded Redis is a socket.
    return "redis+unix://" + url[len("unix://") :] if url.startswith("unix://") else url


def _check_permission():
    """Before every view: public, machine-authenticated, or a signed-in staff member whose role allows it."""
    endpoint = request.endpoint
    if endpoint is None or endpoint in permissions.PUBLIC or endpoint in permissions.MACHINE:
        return None
    staff = load_staff()
    needed = permissions.ROUTES.get(endpoint)
    if needed is None and endpoint not in permissions.SIGNED_IN:
        abort(403, description="This page has no permission rule yet, so nobody may open it.")
    if staff is None:
        if _wants_json():
            return jsonify(error="sign in first"), 401
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?") if request.method == "GET" else None))
    if needed is not None and not permissions.staff_may(staff, needed):
        abort(403, description="Your role does not allow this.")
    return None


def _wants_json() -> bool:
    return "/api/" in request.path


def _csrf_refused(error: CSRFError):
    error.description = "The form expired or came from elsewhere. Reload the page and try again."
    return render_error(error)


def _throttled(error):
    flash("Too many sign-in attempts. Wait a minute and try again.", "error")
    return render_template("login.html", next="", email=""), 429


def render_error(error: HTTPException):
    """A page in the dashboard's style for 400/403/404 (JSON for the simulator's API)."""
    if _wants_json():
        return {"error": error.description}, error.code
    return render_template("error.html", code=error.code, title=error.name, description=error.description), error.code


for _code in (400, 403, 404):
    bp.app_errorhandler(_code)(render_error)


@bp.app_context_processor
def _template_helpers():
    staff = load_staff()
    return {
        "current_staff": staff,
        "may": lambda permission: staff is not None and permissions.staff_may(staff, permission),
        "demo": runtime.settings().demo,
        "email_off": not runtime.settings().email_enabled,
    }


def load_staff() -> StaffUser | None:
    """The signed-in staff member, or None (kept on `g` for the request)."""
    if "staff" not in g:
        g.staff = current_user.staff if current_user.is_authenticated else None
    return g.staff


def safe_next(target: str | None) -> str:
    """`target` when it is a path on this site, else the inbox: an open redirect would make sign-in a phishing aid."""
    home = url_for("dashboard.inbox")
    if not target:
        return home
    for candidate in (target, unquote(target)):
        # Browsers drop tabs and newlines and read "\" as "/": "/\t/evil.example" is "//evil.example".
        if any(c in candidate for c in "\\" + "".join(map(chr, range(32))) + "\x7f"):
            return home
        parts = urlsplit(candidate)
        if not candidate.startswith("/") or candidate.startswith("//") or parts.scheme or parts.netloc:
            return home
    return target


def _login_account_key() -> str:
    return "account:" + (request.form.get("email") or "").strip().lower()


def _failed(response) -> bool:
    return response.status_code == 401


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT_PER_ACCOUNT, key_func=_login_account_key, methods=["POST"], deduct_when=_failed)
@limiter.limit(LOGIN_LIMIT_PER_ADDRESS, methods=["POST"], deduct_when=_failed)
def login():
    """Sign in with email and password."""
    if request.method == "GET":
        if load_staff() is not None:
            return redirect(safe_next(request.args.get("next")))
        return render_template("login.html", next=request.args.get("next", ""), email="")
    email = (request.form.get("email") or "").strip().lower()
    password = request.form.get("password") or ""
    with session_scope(runtime.db_url()) as db:
        staff = db.exec(select(StaffUser).where(func.lower(StaffUser.email) == email, StaffUser.active == True)).first()  # noqa: E712
        valid = check_password_hash(staff.password_hash if staff and staff.password_hash else _DUMMY_HASH, password)
        if not (staff and staff.password_hash and valid):
            flash("That email and password do not match a staff account.", "error")
            return render_template("login.html", next=request.form.get("next", ""), email=email), 401
        _audit(db, staff, "signed_in")
    session.clear()
    login_user(SignedIn(staff, sessions.start(staff.id)))
    return redirect(safe_next(request.form.get("next")))


@bp.post("/logout")
def logout():
    """Sign out: every session of this staff member ends, on every device."""
    staff = load_staff()
    if staff is not None:
        sessions.end_all(staff.id)
    logout_user()
    session.clear()
    flash("Signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    """Change your own password; every other session of yours ends."""
    staff = load_staff()
    if request.method == "GET":
        return render_template("password.html")
    current = request.form.get("current") or ""
    new = request.form.get("new") or ""
    if not check_password_hash(staff.password_hash or _DUMMY_HASH, current):
        flash("Your current password is not right.", "error")
        return render_template("password.html"), 400
    if len(new) < MIN_PASSWORD or new != (request.form.get("again") or ""):
        flash(f"The new password needs at least {MIN_PASSWORD} characters, typed the same twice.", "error")
        return render_template("password.html"), 400
    with session_scope(runtime.db_url()) as db:
        stored = db.get(StaffUser, staff.id)
        stored.password_hash = generate_password_hash(new)
        db.add(stored)
        _audit(db, stored, "password_changed")
    sessions.end_all(staff.id)
    session.clear()
    login_user(SignedIn(staff, sessions.start(staff.id)))
    flash("Password changed; you were signed out everywhere else.", "info")
    return redirect(url_for("dashboard.inbox"))


def _audit(db, staff: StaffUser, action: str) -> None:
    db.add(
        AuditEvent(
            practice_id=staff.practice_id,
            actor=f"staff:{staff.id}",
            action=action,
            subject_type="staff_user",
            subject_id=staff.id,
            created_at=runtime.clock().now(),
        )
    )
