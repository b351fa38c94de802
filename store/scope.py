"""Which rows a staff member limited to some locations of their practice sees (StaffUser.location_ids).

A location's patients are those with a visit there or a text to or from its number; a patient seen at two
locations belongs to both. A text belongs to the location whose number sent or received it (a text on no
location's number, to the practice's main line say, to its patient's locations). An escalation belongs to
the location its text was sent to, else to its patient's locations; a visit to its location.

`rule(model, places)` is the one condition per table; web.dashboard.context.practice_rows adds it to the
practice condition of every dashboard query, so a page cannot forget it. A table whose rows belong to the
whole practice (its settings, services, staff) has no location condition; a table named in neither list
is refused, so a new table has to be placed here before a dashboard page can list it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, and_, exists, not_, or_, true
from sqlalchemy.orm import aliased
from sqlmodel import SQLModel, col, select

from store.models import (
    Appointment,
    AuditEvent,
    Correction,
    Escalation,
    GrowthConfig,
    Location,
    Message,
    Offer,
    OnCallShift,
    Patient,
    Practice,
    Provider,
    Referral,
    ReportClaim,
    RetailSale,
    Service,
    StaffUser,
    Touch,
)

Places = tuple[int, ...] | None
"""The location ids a staff member is limited to; None: every location of the practice."""

PRACTICE_WIDE = frozenset({Practice, StaffUser, Service, GrowthConfig, ReportClaim, OnCallShift})
"""Tables whose rows belong to the practice as a whole: a limited staff member sees them as everyone does."""


def places_of(staff: StaffUser | None) -> Places:
    """The locations this staff member is limited to (None: not limited)."""
    ids = staff.location_ids if staff is not None else None
    return tuple(sorted({int(i) for i in ids})) if ids else None


def _numbers(places: Iterable[int] | None):
    """The SMS numbers of these locations (of every location when None)."""
    place = aliased(Location)
    query = select(place.sms_number).where(col(place.sms_number).is_not(None))
    return query.where(col(place.id).in_(tuple(places))) if places is not None else query


def patient_at(patient_column, places: Places) -> ColumnElement[bool]:
    """Patients with a visit at one of these locations, or a text to or from one of their numbers."""
    if places is None:
        return true()
    visit, text = aliased(Appointment), aliased(Message)
    mine = _numbers(places)
    return or_(
        exists(select(visit.id).where(visit.patient_id == patient_column, col(visit.location_id).in_(places))),
        exists(
            select(text.id).where(
                text.patient_id == patient_column,
                or_(col(text.to_number).in_(mine), col(text.from_number).in_(mine)),
            )
        ),
    )


def _message(text, places: tuple[int, ...]) -> ColumnElement[bool]:
    everywhere, mine = _numbers(None), _numbers(places)
    return or_(
        col(text.to_number).in_(mine),
        col(text.from_number).in_(mine),
        and_(
            col(text.to_number).not_in(everywhere),
            col(text.from_number).not_in(everywhere),
            patient_at(text.patient_id, places),
        ),
    )


def _escalation(places: tuple[int, ...]) -> ColumnElement[bool]:
    text = aliased(Message)
    everywhere, mine = _numbers(None), _numbers(places)
    of_text = text.id == Escalation.message_id
    return or_(
        exists(select(text.id).where(of_text, col(text.to_number).in_(mine))),
        and_(
            not_(exists(select(text.id).where(of_text, col(text.to_number).in_(everywhere)))),
            patient_at(Escalation.patient_id, places),
        ),
    )


def _correction(places: tuple[int, ...]) -> ColumnElement[bool]:
    text = aliased(Message)
    return exists(select(text.id).where(text.id == Correction.message_id, _message(text, places)))


def _audit(places: tuple[int, ...]) -> ColumnElement[bool]:
    """Entries about a patient only when the patient is one of these locations'; the others as for everyone."""
    person = aliased(Patient)
    return or_(
        col(AuditEvent.subject_type).is_(None),
        col(AuditEvent.subject_type) != "patient",
        col(AuditEvent.subject_id).in_(select(person.id).where(patient_at(person.id, places))),
    )


def rule(model: type[SQLModel], places: Places) -> ColumnElement[bool]:
    """The condition that keeps a query on `model` to rows of these locations (true when not limited)."""
    if places is None or model in PRACTICE_WIDE:
        return true()
    if model is Patient:
        return patient_at(Patient.id, places)
    if model is Message:
        return _message(Message, places)
    if model is Escalation:
        return _escalation(places)
    if model is Appointment:
        return or_(
            col(Appointment.location_id).in_(places),
            and_(col(Appointment.location_id).is_(None), patient_at(Appointment.patient_id, places)),
        )
    if model is Touch:
        return patient_at(Touch.patient_id, places)
    if model is Offer:
        return patient_at(Offer.patient_id, places)
    if model is RetailSale:
        return patient_at(RetailSale.patient_id, places)
    if model is Referral:
        return patient_at(Referral.referrer_id, places)
    if model is Correction:
        return _correction(places)
    if model is AuditEvent:
        return _audit(places)
    if model is Location:
        return col(Location.id).in_(places)
    if model is Provider:
        return or_(col(Provider.location_id).in_(places), col(Provider.location_id).is_(None))
    raise LookupError(f"{model.__name__}: no location rule; place it in store.scope before listing it by location")
