"""What every dashboard page needs: the clock, the signed-in staff member's practice and its time zone."""

from __future__ import annotations

from datetime import datetime

from flask import abort, g
from sqlmodel import Session

from bot import runtime
from bot.clock import to_local
from store.models import Patient, Practice
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
    if patient is None or patient.practice_id != g.staff.practice_id:
        abort(404, description="No such patient at this practice.")
    return patient


@bp.app_template_filter("local")
def _local_filter(moment, fmt=TIME_FORMAT):
    """A stored UTC time shown in the practice's zone."""
    return to_local(moment, getattr(g, "tz", None) or DEFAULT_TIMEZONE).strftime(fmt) if moment else ""


@bp.app_template_filter("reason")
def _reason_filter(reason):
    return reason_text(reason)
