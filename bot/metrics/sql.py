"""SQL pieces the figures share, written once for SQLite and PostgreSQL: seconds since the epoch, nearest-rank
percentiles, and the patients a location filter keeps."""

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


DAY = 86400
"""Seconds in a day."""


def visited(patient_column, location_id: int | None) -> ColumnElement[bool]:
    """True for every patient when no location is picked; else for patients with a visit at that location."""
    if location_id is None:
        return true()
    return exists(
        select(col(Appointment.id)).where(
            col(Appointment.patient_id) == patient_column, col(Appointment.location_id) == location_id
        )
    )


def at_location(location_column, location_id: int | None) -> ColumnElement[bool]:
    """True for every row when no location is picked; else for rows of that location."""
    return true() if location_id is None else col(location_column) == location_id


def ranked(value, partition):
    """The window columns a nearest-rank percentile needs: the row's rank by `value` and its partition's size."""
    return (
        func.row_number().over(partition_by=partition, order_by=value).label("rank"),
        func.count().over(partition_by=partition).label("size"),
    )


def percentile(value, rank, size, q: float):
    """Nearest rank: the smallest value with at least a share `q` of the values at or below it (median: 0.5)."""
    return func.min(case((rank >= q * size, value)))
