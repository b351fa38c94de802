"""Offer moments a reply triggers: praise for a results check-in (the treatment's next step, at the
satisfaction peak) and a changed goal (the matching offer; staff see the change). Each becomes an
ordinary `offers` plan touch a little later, so consent, quiet hours and caps decide as for any other."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot import runtime
from bot.growth import matrix
from bot.growth.offers import choose, history, make
from bot.growth.segments import standing
from bot.touches.plans import OFFERS, PlanBook, plans_for
from bot.understanding import textnorm
from bot.vocabulary import OfferMoment, TouchStatus
from store.models import Appointment, Offer, Patient, Service, Touch

RESULTS_WINDOW = timedelta(days=7)
"""Praise this long after a results check-in was sent counts as praise for those results."""

CHANGED = re.compile(
    r"\b(goals?|objetivos?|meta)\b.*\b(changed|change|different|now|cambio|cambiado|ahora|otro|otra)\b"
    r"|\bnow i (just |only )?(want|would like|id like) to\b|\bahora (solo )?quiero\b|\bfocus(ing)? on\b"
)
"""A text saying the patient's goal changed ("my goal has changed to maintenance", "ahora solo quiero mantener")."""

GOALS = (
    ("maintenance", r"\b(maintain|maintenance|maintaining|keep (it|them|my results)|mantener|mantenimiento)\b"),
    ("prevention", r"\b(prevent|prevention|preventative|preventive|prevenir|prevencion)\b"),
    ("skin", r"\b(skin|texture|glow|piel|textura)\b"),
    ("contour", r"\b(contour|sculpt|body|shape|cuerpo|contorno|figura)\b"),
)
"""Goal words, in order of precedence, and the matrix [goals] entry each means."""


def goal_named(text: str) -> str | None:
    """The goal a "my goal changed" text names (None when it names none the matrix knows); not a change: None."""
    body = " ".join(textnorm.words(text))
    if not CHANGED.search(body):
        return None
    for goal, pattern in GOALS:
        if re.search(pattern, body):
            return goal
    return ""


def _latest_visit(session: Session, patient_id: int) -> tuple[Appointment, Service] | None:
    row = session.exec(
        select(Appointment, Service)
        .join(Service, col(Service.id) == Appointment.service_id)
        .where(Appointment.patient_id == patient_id, Appointment.status == "completed")
        .order_by(col(Appointment.start_at).desc())
    ).first()
    return (row[0], row[1]) if row else None


def _offer(session, book, patient, appointment, service, moment, now, goal=None) -> Offer | None:
    if book.step(OFFERS, moment) is None:
        return None
    table = matrix.current(session, patient.practice_id)
    choice = choose(moment, table.entry_for(service), table, history(session, patient.id), now, goal=goal)
    if choice is None:
        return None
    step = book.step(OFFERS, moment)
    due = now + (step.offset if step is not None else timedelta(hours=1))
    segment = standing(session, patient, table, now).primary
    return make(session, book, table, patient, appointment, moment, choice, due, now, segment)


def after_results(session: Session, patient: Patient, now: datetime, book: PlanBook | None = None) -> Offer | None:
    """The next-step offer when a patient praises the results a results check-in asked about (once per visit)."""
    book = book or plans_for(runtime.settings())
    asked = session.exec(
        select(Touch)
        .where(
            Touch.patient_id == patient.id,
            Touch.purpose == "results",
            Touch.status == TouchStatus.SENT,
            col(Touch.sent_at) >= now - RESULTS_WINDOW,
        )
        .order_by(col(Touch.sent_at).desc())
    ).first()
    if asked is None or asked.appointment_id is None:
        return None
    done = session.exec(
        select(Offer.id).where(Offer.appointment_id == asked.appointment_id, Offer.moment == OfferMoment.AFTER_RESULTS)
    ).first()
    visit = session.get(Appointment, asked.appointment_id)
    if done is not None or visit is None:
        return None
    service = session.get(Service, visit.service_id)
    return _offer(session, book, patient, visit, service, OfferMoment.AFTER_RESULTS, now)


def drop_visit_offers(session: Session, appointment_id: int, now: datetime, reason: str) -> int:
    """Suppress the pending offer touches of a visit that will not happen (a declined request); how many."""
    pending = session.exec(
        select(Touch).where(
            Touch.appointment_id == appointment_id,
            Touch.plan == OFFERS,
            col(Touch.status).in_((TouchStatus.SCHEDULED, TouchStatus.QUEUED)),
        )
    ).all()
    for touch in pending:
        touch.status, touch.reason, touch.updated_at = TouchStatus.SUPPRESSED, reason, now
        session.add(touch)
    return len(pending)


def goal_change(
    session: Session, patient: Patient, goal: str, now: datetime, book: PlanBook | None = None
) -> Offer | None:
    """The offer matching a changed goal (None when the matrix has none for it)."""
    book = book or plans_for(runtime.settings())
    latest = _latest_visit(session, patient.id)
    if latest is None or not goal:
        return None
    visit, service = latest
    return _offer(session, book, patient, visit, service, OfferMoment.GOAL_CHANGE, now, goal=goal)
