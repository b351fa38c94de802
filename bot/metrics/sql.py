"""SQL pieces the figures share, written once for SQLite and PostgreSQL: seconds since the epoch, nearest-rank
percentiles, and the patients a location filter keeps (one location, or several: a staff member limited to
some locations sees every figure over theirs)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Float, case, exists, func, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import col

from store.models import Appointment


class epoch(FunctionElement):
    """Seconds since 1970 of a stored time, so windows and waits are plain arithmetic on both databases."""

    type = Float()
    inherit_cache = True


@compiles(epoch)
def _epoch_default(element, compiler, **kw):
    return f"EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})"


@compiles(epoch, "sqlite")
def _epoch_sqlite(element, compiler, **kw):
    return f"((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0)"


Where = int | tuple[int, ...] | None
"""The location(s) a figure covers: one id, several (a limited staff member's), or None for every location."""


def _places(location_id: Where) -> tuple[int, ...]:
    return (location_id,) if isinstance(location_id, int) else tuple(location_id or ())


def covers(location_id: Where, place: int | None) -> bool:
    """Whether a row at `place` counts under this location filter."""
    return location_id is None or place in _places(location_id)


DAY = 86400
"""Seconds in a day."""


def visited(patient_column, location_id: Where) -> ColumnElement[bool]:
    """True for every patient when no location is picked; else for patients with a visit at that location
    (at one of those locations)."""
    if location_id is None:
        return true()
    return exists(
        select(col(Appointment.id)).where(
            col(Appointment.patient_id) == patient_column, col(Appointment.location_id).in_(_places(location_id))
        )
    )


def at_location(location_column, location_id: Where) -> ColumnElement[bool]:
    """True for every row when no location is picked; else for rows of that location (of those locations)."""
    return true() if location_id is None else col(location_column).in_(_places(location_id))


def ranked(value, partition):
    """The window columns a nearest-rank percentile needs: the row's rank by `value` and its partition's size."""
    return (
        func.row_number().over(partition_by=partition, order_by=value).label("rank"),
        func.count().over(partition_by=partition).label("size"),
    )


def percentile(value, rank, size, q: float):
    """Nearest rank: the smallest value with at least a share `q` of the values at or below it (median: 0.5)."""
    return func.min(case((rank >= q * size, value)))
