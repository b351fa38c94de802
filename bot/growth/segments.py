"""Patient segments, computed in SQL from visits: VIP (enough treatments, or marked VIP by the practice),
new (few treatments yet), lapsed (no visit for long and none booked), active (the rest).

A patient may be VIP and lapsed at once; `primary` names the one segment an offer is counted under
(VIP first, then lapsed, new, active). The thresholds are the practice's matrix settings ([segments]).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func
from sqlmodel import Session, col, select

from bot.clock import to_utc
from bot.growth.matrix import Matrix
from bot.vocabulary import AppointmentStatus, Segment
from store.models import Appointment, Patient, Service

NOT_TREATMENTS = ("consultation",)
"""Service categories that are not treatments (a consultation does not make anyone VIP)."""


@dataclass(frozen=True)
class Standing:
    """What the segments of one patient rest on, and the segments themselves."""

    patient_id: int
    treatments: int
    first_visit: datetime | None
    last_visit: datetime | None
    booked_ahead: bool
    segments: frozenset[str]

    @property
    def primary(self) -> str:
        for segment in (Segment.VIP, Segment.LAPSED, Segment.NEW, Segment.ACTIVE):
            if segment in self.segments:
                return segment
        return Segment.NEW


def standings(
    session: Session, practice_id: int, matrix: Matrix, now: datetime, patient_ids=None
) -> dict[int, Standing]:
    """Every patient's standing at this practice (or only `patient_ids`), in two queries."""
    vip_min = matrix.setting("segments", "vip_min_treatments")
    new_max = matrix.setting("segments", "new_max_treatments")
    lapsed_before = to_utc(now) - timedelta(days=matrix.setting("segments", "lapsed_after_days"))
    treatment = and_(
        col(Appointment.status) == AppointmentStatus.COMPLETED, col(Service.category).not_in(NOT_TREATMENTS)
    )
    visits = (
        select(  # type: ignore[call-overload]  # sqlmodel types select() of plain columns only
            col(Patient.id),
            col(Patient.vip),
            func.count(case((treatment, Appointment.id))),
            func.min(case((treatment, Appointment.start_at))),
            func.max(case((treatment, Appointment.start_at))),
        )
        .select_from(Patient)
        .outerjoin(Appointment, col(Appointment.patient_id) == Patient.id)
        .outerjoin(Service, col(Service.id) == Appointment.service_id)
        .where(Patient.practice_id == practice_id)
        .group_by(col(Patient.id), col(Patient.vip))
    )
    ahead_query = select(Appointment.patient_id).where(
        Appointment.practice_id == practice_id,
        col(Appointment.status).in_((AppointmentStatus.BOOKED, AppointmentStatus.REQUESTED)),
        Appointment.start_at > to_utc(now),
    )
    if patient_ids is not None:
        ids = list(patient_ids)
        visits = visits.where(col(Patient.id).in_(ids))
        ahead_query = ahead_query.where(col(Appointment.patient_id).in_(ids))
    ahead = set(session.exec(ahead_query.distinct()))
    found: dict[int, Standing] = {}
    for patient_id, marked_vip, count, first, last in session.exec(visits):
        segments = set()
        if count >= vip_min or marked_vip:
            segments.add(Segment.VIP)
        lapsed = last is not None and to_utc(last) < lapsed_before and patient_id not in ahead
        if lapsed:
            segments.add(Segment.LAPSED)
        if count <= new_max and not lapsed:
            segments.add(Segment.NEW)
        if not segments:
            segments.add(Segment.ACTIVE)
        found[patient_id] = Standing(
            patient_id,
            int(count),
            to_utc(first) if first else None,
            to_utc(last) if last else None,
            patient_id in ahead,
            frozenset(segments),
        )
    return found


def standing(session: Session, patient: Patient, matrix: Matrix, now: datetime) -> Standing:
    """One patient's standing."""
    return standings(session, patient.practice_id, matrix, now, [patient.id])[patient.id]


def counts(found: dict[int, Standing]) -> dict[str, int]:
    """How many patients are in each segment (a patient in two counts in both)."""
    totals = {segment.value: 0 for segment in Segment}
    for item in found.values():
        for segment in item.segments:
            totals[segment] += 1
    return totals
