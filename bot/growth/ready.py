"""For staff: "Ready this week" (the patients most likely to accept an offer now, ranked, each with the
suggested offer and a one-click send that goes through every sending rule) and the prompt before a visit
(history, last visit, retail gaps, one suggested mention)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.clock import to_utc
from bot.growth.matrix import Matrix
from bot.growth.offers import Choice, History, choose, history, make
from bot.growth.rules import HISTORY_WINDOW
from bot.growth.segments import Standing, standings
from bot.touches.plans import OFFERS, PlanBook
from bot.vocabulary import AppointmentStatus, OfferMoment, Segment, TouchStatus
from store import scope
from store.models import Appointment, AuditEvent, Patient, Service, Touch
from store.scope import Places

LIMIT = 25
"""Patients the list shows."""

QUIET_AFTER_OFFER = timedelta(days=7)
"""A patient offered something this recently is left out of the list."""

SEGMENT_WEIGHT = {Segment.VIP: 0.4, Segment.LAPSED: 0.2, Segment.NEW: 0.1, Segment.ACTIVE: 0.0}
"""How much each segment adds to a patient's score."""


@dataclass
class Candidate:
    patient: Patient
    visit: Appointment
    service: Service
    standing: Standing
    choice: Choice
    score: float
    why: list[str] = field(default_factory=list)


def _suggest(entry, table: Matrix, past: History, now: datetime) -> Choice | None:
    for moment in (OfferMoment.HISTORY, OfferMoment.REBOOKING, OfferMoment.VISIT_SUMMARY):
        choice = choose(moment, entry, table, past, now)
        if choice is not None:
            return choice
    return None


def ready_this_week(
    session: Session,
    practice_id: int,
    table: Matrix,
    now: datetime,
    patient_id: int | None = None,
    limit: int = LIMIT,
    places: Places = None,
) -> list[Candidate]:
    """The ranked list: timing after the last visit against its follow-up window, the results window,
    the segment and the patient's past acceptance; only patients an offer may go to now (of these
    locations when given: store.scope)."""
    found = standings(session, practice_id, table, now, [patient_id] if patient_id is not None else None)
    busy = set(
        session.exec(
            select(Touch.patient_id).where(
                Touch.practice_id == practice_id,
                Touch.plan == OFFERS,
                (col(Touch.status).in_((TouchStatus.SCHEDULED, TouchStatus.QUEUED)))
                | (col(Touch.sent_at) >= now - QUIET_AFTER_OFFER),
            )
        )
    )
    query = (
        select(Appointment, Service, Patient)
        .join(Service, col(Service.id) == Appointment.service_id)
        .join(Patient, col(Patient.id) == Appointment.patient_id)
        .where(
            Appointment.practice_id == practice_id,
            Appointment.status == AppointmentStatus.COMPLETED,
            Patient.marketing_sms == True,  # noqa: E712
            col(Patient.opted_out_at).is_(None),
            col(Patient.flagged_at).is_(None),
            scope.rule(Patient, places),
        )
        .order_by(col(Appointment.start_at))
    )
    if patient_id is not None:
        query = query.where(Patient.id == patient_id)
    latest: dict[int, tuple[Appointment, Service, Patient]] = {}
    for visit, service, patient in session.exec(query):
        if service.category != "consultation":
            latest[patient.id] = (visit, service, patient)
    ranked = []
    for pid, (visit, service, patient) in latest.items():
        standing = found.get(pid)
        if pid in busy or standing is None:
            continue
        entry = table.entry_for(service)
        past = history(session, pid)
        choice = _suggest(entry, table, past, now)
        if entry is None or choice is None:
            continue
        days = (now - to_utc(visit.start_at)).days
        score, why = 0.0, []
        first, last = entry.window
        if first <= days <= last:
            score += 1.0
            why.append(f"in its follow-up window ({first}-{last} days; day {days})")
        elif first - 7 <= days < first:
            score += 0.6
            why.append(f"follow-up window opens this week (day {days} of {first})")
        elif days > last:
            score += 0.3
            why.append(f"past the follow-up window (day {days})")
        if HISTORY_WINDOW[0].days <= days <= HISTORY_WINDOW[1].days:
            score += 0.5
            why.append("results showing (15-30 days)")
        score += SEGMENT_WEIGHT.get(Segment(standing.primary), 0.0)
        why.append(standing.primary)
        sent = [o for o in past.offers if o.sent_at is not None]
        if sent:
            rate = sum(o.accepted_at is not None for o in sent) / len(sent)
            score += rate
            why.append(f"accepted {sum(o.accepted_at is not None for o in sent)} of {len(sent)} offers")
        ranked.append(Candidate(patient, visit, service, standing, choice, round(score, 2), why))
    ranked.sort(key=lambda c: (-c.score, c.patient.id))
    return ranked[:limit]


def send_now(session: Session, book: PlanBook, table: Matrix, patient_id: int, staff_id: int, now: datetime):
    """The one-click send: the patient's suggested offer as a touch due now (the sender's rules decide);
    None when the patient is no longer on the list (opted out, offered meanwhile, nothing fits)."""
    practice_id = session.get_one(Patient, patient_id).practice_id
    found = ready_this_week(session, practice_id, table, now, patient_id=patient_id)
    if not found:
        return None
    pick = found[0]
    offer = make(
        session,
        book,
        table,
        pick.patient,
        pick.visit,
        OfferMoment.STAFF_PICK,
        pick.choice,
        now,
        now,
        pick.standing.primary,
        created_by=f"staff:{staff_id}",
    )
    session.add(
        AuditEvent(
            practice_id=pick.patient.practice_id,
            actor=f"staff:{staff_id}",
            action="offer_sent_by_staff",
            subject_type="patient",
            subject_id=patient_id,
            detail={"offer_id": offer.id, "item": offer.item, "touch_id": offer.touch_id},
            created_at=now,
        )
    )
    return offer


@dataclass
class Prompt:
    """What staff may mention at a visit."""

    visit: Appointment
    service: Service
    patient: Patient
    standing: Standing
    past: list[tuple[Appointment, Service]]
    retail_gaps: list[str]
    mention: Choice | None


def prompt(session: Session, visit: Appointment, table: Matrix, now: datetime) -> Prompt:
    """The staff prompt for one visit: history, last visit, retail gaps, one suggested mention."""
    patient = session.get_one(Patient, visit.patient_id)
    service = session.get_one(Service, visit.service_id)
    found = standings(session, patient.practice_id, table, now, [patient.id])[patient.id]
    past = list(
        session.exec(
            select(Appointment, Service)
            .join(Service, col(Service.id) == Appointment.service_id)
            .where(Appointment.patient_id == patient.id, Appointment.status == AppointmentStatus.COMPLETED)
            .order_by(col(Appointment.start_at).desc())
        )
    )
    record = history(session, patient.id)
    taken = {o.item for o in record.offers if o.accepted_at is not None}
    gaps: list[str] = []
    for _visit, had in past:
        entry = table.entry_for(had)
        for item in entry.retail if entry else ():
            if item.name not in taken and item.name not in gaps:
                gaps.append(item.name)
    entry = table.entry_for(service)
    mention = choose(OfferMoment.PRE_VISIT, entry, table, record, now, visit=visit) or _suggest(
        entry, table, record, now
    )
    return Prompt(visit, service, patient, found, [(a, s) for a, s in past[:5]], gaps[:4], mention)


def prompt_view(item: Prompt) -> dict:
    """A prompt as JSON for the API."""
    return {
        "appointment_id": item.visit.id,
        "start": to_utc(item.visit.start_at).isoformat(),
        "service": item.service.name,
        "patient_id": item.patient.id,
        "first_name": item.patient.first_name,
        "segments": sorted(item.standing.segments),
        "treatments": item.standing.treatments,
        "last_visit": (
            {"date": to_utc(item.past[0][0].start_at).date().isoformat(), "service": item.past[0][1].name}
            if item.past
            else None
        ),
        "history": [{"date": to_utc(a.start_at).date().isoformat(), "service": s.name} for a, s in item.past],
        "retail_gaps": item.retail_gaps,
        "add_ons_on_visit": [a.get("item") for a in item.visit.add_ons or []],
        "suggested_mention": (
            {"item": item.mention.item.name, "kind": item.mention.kind, "price": str(item.mention.item.price)}
            if item.mention
            else None
        ),
    }
