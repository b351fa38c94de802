"""What every dashboard page needs: the clock, the signed-in staff member's practice and its time zone, and
the one condition that keeps a query to the rows they may see (their practice, and their locations when
they are limited to some: store.scope)."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from flask import abort, g
from sqlalchemy import and_, or_
from sqlmodel import Session, SQLModel, col, select

from bot import runtime
from bot.clock import to_local
from store import scope
from store.models import Patient, Practice
from web import permissions
from web.dashboard import bp
from web.transcript import TIME_FORMAT, reason_text

Row = TypeVar("Row", bound=SQLModel)

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


def my_places() -> scope.Places:
    """The locations the signed-in staff member is limited to; None: every location of the practice."""
    return scope.places_of(g.staff)


def practice_rows(column):
    """The condition that keeps a query to what the signed-in staff member may see: rows of their practice
    (`column` is the table's practice column) and, for staff limited to some locations, of those locations
    (store.scope.rule of the column's table). Admins who see every location also see unrouted rows (a text
    from a number no practice owns has no practice)."""
    mine = column == g.staff.practice_id
    places = my_places()
    if places is not None:
        return and_(mine, scope.rule(column.class_, places))
    return or_(mine, col(column).is_(None)) if permissions.may(g.staff.role, "see_unrouted") else mine


def row_or_404(db: Session, model: type[Row], row_id: int, description: str) -> Row:
    """One row the signed-in staff member may see (`practice_rows`); another practice's or another
    location's is 404, like one that does not exist: it does not say who exists."""
    found = db.exec(
        select(model).where(col(model.id) == row_id, practice_rows(model.practice_id))  # type: ignore[attr-defined]
    ).first()
    if found is None:
        abort(404, description=description)
    return found


def patient_or_404(db: Session, patient_id: int) -> Patient:
    """A patient of the signed-in staff member's practice (and locations); any other id is 404."""
    return row_or_404(db, Patient, patient_id, "No such patient at this practice.")


@bp.app_template_filter("local")
def _local_filter(moment, fmt=TIME_FORMAT):
    """A stored UTC time shown in the practice's zone."""
    return to_local(moment, getattr(g, "tz", None) or DEFAULT_TIMEZONE).strftime(fmt) if moment else ""


@bp.app_template_filter("reason")
def _reason_filter(reason):
    return reason_text(reason)
