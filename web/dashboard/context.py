"""What every dashboard page needs: the clock, the signed-in staff member's practice and its time zone."""

from __future__ import annotations

from datetime import datetime

from flask import abort, g
from sqlalchemy import or_
from sqlmodel import Session, col

from bot import runtime
from bot.clock import to_local
from store.models import Patient, Practice
from web import permissions
from web.dashboard import bp
from web.transcript import TIME_FORMAT, reason_text

DEFAULT_TIMEZONE = Practice.model_fields["timezone"].default
"""The zone times are shown in before a page has loaded its practice."""


def current_time() -> datetime:
    """The app clock's now (tests freeze it)."""
    return runtime.clock().now()


def staff_practice(db: Session) -> Practice:
    """The signed-in staff member's practice; later times on the page are shown in its zone."""
    found = db.get(Practice, g.staff.practice_id)
    g.tz = found.timezone
    return found


def patient_or_404(db: Session, patient_id: int) -> Patient:
    """A patient of the signed-in staff member's practice; any other id is 404."""
    patient = db.get(Patient, patient_id)
    if patient is None or patient.practice_id != g.staff.practice_id:  # 404, not 403: it does not say who exists
        abort(404, description="No such patient at this practice.")
    return patient


def practice_rows(column):
    """The condition that keeps a query to the signed-in staff member's practice; admins also see unrouted
    rows (a text from a number no practice owns has no practice)."""
    mine = column == g.staff.practice_id
    return or_(mine, col(column).is_(None)) if permissions.may(g.staff.role, "see_unrouted") else mine


def visible(practice_id: int | None) -> bool:
    """The same rule as `practice_rows`, for one row already loaded."""
    if practice_id is None:
        return permissions.may(g.staff.role, "see_unrouted")
    return practice_id == g.staff.practice_id


@bp.app_template_filter("local")
def _local_filter(moment, fmt=TIME_FORMAT):
    """A stored UTC time shown in the practice's zone."""
    return to_local(moment, getattr(g, "tz", None) or DEFAULT_TIMEZONE).strftime(fmt) if moment else ""


@bp.app_template_filter("reason")
def _reason_filter(reason):
    return reason_text(reason)
