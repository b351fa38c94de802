"""The scheduled offer moments: each scan finds the visits a moment is for and plans one offer touch each.

`plan_offers` runs every hour on the worker (a short horizon) and in `aftercare simulate` (the whole
window): pre-visit add-ons 24-48 h before a booked visit, the suggestion with the visit summary, the
history-based follow-up 15-30 days after a visit, the package at a repeat booking, the VIP invitation when
a referral booked, and the differentiated reactivation offers after the expected return date. Each moment
is planned once per visit (or referral); the due time is the `offers` plan step's offset, so tuning the
timing is editing that step. The moments triggered by a reply (after results, goal change) and by staff
(ready this week) are in bot.growth.events.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot import runtime
from bot.clock import local_zone, to_utc
from bot.growth import matrix
from bot.growth.matrix import Matrix
from bot.growth.offers import choose, history, make
from bot.growth.rules import HISTORY_WINDOW, PRE_VISIT_WINDOW
from bot.growth.segments import standings
from bot.touches import caps
from bot.touches.planner import before_time, due_time
from bot.touches.plans import EVERYONE, OFFERS, PlanBook, plans_for
from bot.vocabulary import AppointmentStatus, OfferMoment, TouchStatus
from store.models import Appointment, Location, Offer, Patient, Practice, Referral, Service, Touch
from store.queries import PENDING_TOUCH_STATUSES

HORIZON = timedelta(hours=2)
"""How far ahead the worker's hourly run plans offers (a little over its period)."""

RECENT_EVENT = timedelta(days=1)
"""A booking or a referral this recent still gets its moment's offer when first seen."""

REPLACES_THANKS = "replaced_by_offer: visit_summary"
"""The reason the thank-you text of a visit carries when its visit-summary offer says thanks instead."""

Row = tuple[Appointment, Service, Patient, Practice, Location | None]


def plan_offers(
    session: Session,
    now: datetime | None = None,
    horizon: timedelta = HORIZON,
    practice_id: int | None = None,
    book: PlanBook | None = None,
) -> list[Offer]:
    """Plan every scheduled moment's offers due within `horizon`; returns the offers made. Idempotent."""
    now = to_utc(now or runtime.clock().now())
    book = book or plans_for(runtime.settings())
    if OFFERS not in book.plans:
        return []
    query = select(Practice.id)
    if practice_id is not None:
        query = query.where(Practice.id == practice_id)
    made: list[Offer] = []
    for pid in session.exec(query):
        table = matrix.current(session, pid)
        scan = _Scan(session, book, table, pid, now, horizon)
        for moment in (
            scan.pre_visit,
            scan.visit_summary,
            scan.history,
            scan.rebooking,
            scan.referral,
            scan.reactivation,
        ):
            made += moment()
    return made


class _Scan:
    """One practice's scan at one moment."""

    def __init__(self, session: Session, book: PlanBook, table: Matrix, practice_id: int, now: datetime, horizon):
        self.session, self.book, self.table, self.practice_id = session, book, table, practice_id
        self.now, self.until = now, now + horizon
        self.standing = standings(session, practice_id, table, now)
        self.done: dict[str, set[int | None]] = {}
        for moment, appointment_id in session.exec(
            select(Offer.moment, Offer.appointment_id).where(Offer.practice_id == practice_id)
        ):
            self.done.setdefault(moment, set()).add(appointment_id)

    def _visits(self, *conditions) -> list[Row]:
        return list(
            self.session.exec(
                select(Appointment, Service, Patient, Practice, Location)  # type: ignore[call-overload]  # five entities
                .join(Service, col(Service.id) == Appointment.service_id)
                .join(Patient, col(Patient.id) == Appointment.patient_id)
                .join(Practice, col(Practice.id) == Appointment.practice_id)
                .outerjoin(Location, col(Location.id) == Appointment.location_id)
                .where(Appointment.practice_id == self.practice_id, col(Patient.opted_out_at).is_(None), *conditions)
                .order_by(col(Appointment.start_at), col(Appointment.id))
            )
        )

    def _make(self, moment: str, row: Row, due: datetime, **extra) -> Offer | None:
        appointment, service, patient, _practice, _location = row
        if appointment.id in self.done.get(moment, set()):
            return None
        choice = choose(
            moment, self.table.entry_for(service), self.table, history(self.session, patient.id), self.now, **extra
        )
        if choice is None:
            return None
        standing = self.standing.get(patient.id)
        offer = make(
            self.session,
            self.book,
            self.table,
            patient,
            appointment,
            moment,
            choice,
            due,
            self.now,
            standing.primary if standing else None,
        )
        self.done.setdefault(moment, set()).add(appointment.id)
        return offer

    def _step(self, key: str):
        step = self.book.step(OFFERS, key)
        if step is None:
            raise LookupError(f"the {OFFERS} plan has no {key} step")
        return step

    def pre_visit(self) -> list[Offer]:
        if self.book.step(OFFERS, OfferMoment.PRE_VISIT) is None:
            return []
        step = self._step(OfferMoment.PRE_VISIT)
        close, far = PRE_VISIT_WINDOW
        made = []
        for row in self._visits(
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.start_at > self.now + close,
            Appointment.start_at <= self.until + far,
        ):
            appointment, _service, _patient, practice, location = row
            due = before_time(appointment.start_at, step, local_zone(location, practice))
            due = max(due, to_utc(appointment.start_at) - far)
            if due <= self.until and (offer := self._make(OfferMoment.PRE_VISIT, row, due, visit=appointment)):
                made.append(offer)
        return made

    def visit_summary(self) -> list[Offer]:
        if self.book.step(OFFERS, OfferMoment.VISIT_SUMMARY) is None:
            return []
        step = self._step(OfferMoment.VISIT_SUMMARY)
        made = []
        for row in self._visits(
            Appointment.status == AppointmentStatus.COMPLETED,
            Appointment.end_at >= self.now - caps.PLANNING_GRACE / 2,
            Appointment.end_at <= self.until,
        ):
            appointment, _service, patient, practice, location = row
            due = due_time(appointment.end_at, step, local_zone(location, practice))
            if due > self.until or not (offer := self._make(OfferMoment.VISIT_SUMMARY, row, due)):
                continue
            made.append(offer)
            if patient.marketing_sms:  # the offer thanks them; without consent the plain thank-you stays
                self.session.exec(
                    update(Touch)
                    .where(
                        col(Touch.appointment_id) == appointment.id,
                        col(Touch.plan) == EVERYONE,
                        col(Touch.step) == "thanks",
                        col(Touch.status).in_(PENDING_TOUCH_STATUSES),
                    )
                    .values(status=TouchStatus.SUPPRESSED, reason=REPLACES_THANKS, updated_at=self.now)
                )
        return made

    def history(self) -> list[Offer]:
        if self.book.step(OFFERS, OfferMoment.HISTORY) is None:
            return []
        step = self._step(OfferMoment.HISTORY)
        first, last = HISTORY_WINDOW
        latest = self._latest_completed()
        made = []
        for row in self._visits(
            Appointment.status == AppointmentStatus.COMPLETED,
            Appointment.start_at >= self.now - last,
            Appointment.start_at <= self.until - first,
        ):
            appointment, _service, patient, practice, location = row
            if latest.get(patient.id) != appointment.id:
                continue  # a newer visit has its own moment
            due = due_time(appointment.end_at, step, local_zone(location, practice))
            due = min(max(due, to_utc(appointment.start_at) + first), to_utc(appointment.start_at) + last)
            if due <= self.until and (offer := self._make(OfferMoment.HISTORY, row, due)):
                made.append(offer)
        return made

    def rebooking(self) -> list[Offer]:
        if self.book.step(OFFERS, OfferMoment.REBOOKING) is None:
            return []
        step = self._step(OfferMoment.REBOOKING)
        made = []
        for row in self._visits(
            col(Appointment.status).in_((AppointmentStatus.BOOKED, AppointmentStatus.REQUESTED)),
            Appointment.start_at > self.now,
            Appointment.created_at >= self.now - RECENT_EVENT,
        ):
            appointment, service, patient, _practice, _location = row
            entry = self.table.entry_for(service)
            before = history(self.session, patient.id).services
            if entry is None or not any(entry.covers(s) for s in before):
                continue  # a first booking of this treatment: nothing to expand yet
            due = to_utc(appointment.created_at) + step.offset
            if due <= self.until and (offer := self._make(OfferMoment.REBOOKING, row, due)):
                made.append(offer)
        return made

    def referral(self) -> list[Offer]:
        if self.book.step(OFFERS, OfferMoment.REFERRAL) is None:
            return []
        step = self._step(OfferMoment.REFERRAL)
        latest = self._latest_completed()
        made = []
        referrals = self.session.exec(
            select(Referral).where(
                Referral.practice_id == self.practice_id,
                col(Referral.status).in_(("booked", "rewarded")),
                col(Referral.booked_at) >= self.now - RECENT_EVENT,
            )
        ).all()
        for referral in referrals:
            visit_id = latest.get(referral.referrer_id)
            if visit_id is None or referral.booked_at is None:
                continue
            rows = self._visits(col(Appointment.id) == visit_id)
            if not rows:
                continue
            _appointment, _service, _patient, practice, location = rows[0]
            due = due_time(referral.booked_at, step, local_zone(location, practice))
            if due <= self.until and (offer := self._make(OfferMoment.REFERRAL, rows[0], due)):
                made.append(offer)
        return made

    def reactivation(self) -> list[Offer]:
        made = []
        latest = self._latest_completed()
        later = self._booked_after()
        for row in self._visits(col(Appointment.id).in_(list(latest.values()))):
            appointment, service, patient, practice, location = row
            entry = self.table.entry_for(service)
            standing = self.standing.get(patient.id)
            if entry is None or standing is None or later.get(patient.id, False):
                continue
            expected = to_utc(appointment.start_at) + timedelta(days=entry.return_days)
            for moment in (OfferMoment.REACTIVATION_VIP, OfferMoment.REACTIVATION_NEW):
                step = self.book.step(OFFERS, moment)
                if step is None or not step.applies_to(None, patient.vip, None, standing.segments):
                    continue
                due = due_time(expected, step, local_zone(location, practice))
                if self.now - caps.PLANNING_GRACE <= due <= self.until and (offer := self._make(moment, row, due)):
                    made.append(offer)
                break  # one reactivation offer per visit: VIP first
        return made

    def _latest_completed(self) -> dict[int, int]:
        latest: dict[int, int] = {}
        for appointment_id, patient_id in self.session.exec(
            select(Appointment.id, Appointment.patient_id)
            .join(Service, col(Service.id) == Appointment.service_id)
            .where(
                Appointment.practice_id == self.practice_id,
                Appointment.status == AppointmentStatus.COMPLETED,
                Service.category != "consultation",
            )
            .order_by(col(Appointment.start_at))
        ):
            latest[patient_id] = appointment_id
        return latest

    def _booked_after(self) -> dict[int, bool]:
        """Patients with a booking ahead (their reactivation offer would be pointless)."""
        return {
            patient_id: True
            for patient_id in self.session.exec(
                select(Appointment.patient_id).where(
                    Appointment.practice_id == self.practice_id,
                    col(Appointment.status).in_((AppointmentStatus.BOOKED, AppointmentStatus.REQUESTED)),
                    Appointment.start_at > self.now,
                )
            )
        }
