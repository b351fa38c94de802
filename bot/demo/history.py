"""The demo's months of numbers: where visits were booked, past escalations with their waits, and decisions a
manager marked wrong, so Numbers, the monthly report, Operations and Corrections show believable figures.

Runs after the seed's replay (bot/demo/seed.py) on the rows it left; deterministic (its own random seed).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.clock import to_utc
from bot.vocabulary import AppointmentStatus, Intent, Role, Urgency
from store.models import Appointment, Correction, Escalation, Message, Patient, Referral, StaffUser

BY_TEXT_SHARE, BY_STAFF_SHARE = 0.18, 0.12
"""Shares of the visits relabelled as booked by text (a time picked and confirmed) and by the front desk."""
WAITS_MIN = (2, 3, 4, 6, 8, 11, 15, 22, 35)
"""Minutes to acknowledge a past escalation, drawn from these (most are quick, a few are slow)."""
CORRECTIONS = (
    # what the manager said the text really was: (intent, urgency)
    (Intent.SIDE_EFFECT_CONCERN, Urgency.URGENT),
    (Intent.REBOOK_REQUEST, Urgency.NONE),
    (Intent.QUESTION, Urgency.NONE),
    (Intent.SIDE_EFFECT_CONCERN, Urgency.ROUTINE),
    (Intent.NEGATIVE_FEEDBACK, Urgency.NONE),
)
"""The corrections the demo's manager made, cycled over past texts."""
FAILURE_SHARE = 0.02
"""Share of delivered texts turned into delivery failures (unreachable handsets, carrier filtering)."""
FAILURE_CODES = (30003, 30003, 30005, 30006, 30007)
"""The Twilio errors those failures carry."""


def add_history(session: Session, practice_id: int, now: datetime) -> dict:
    """Lay the numbers' history over the seeded practice; returns what was changed."""
    rng = random.Random(20261201)
    relabelled = _channels(session, practice_id, rng)
    escalations = _escalations(session, practice_id, now, rng)
    corrections = _corrections(session, practice_id, rng)
    referrals = _referrals(session, practice_id, now, rng)
    failures = _delivery_failures(session, practice_id, rng)
    return {
        "booked_by_text": relabelled,
        "past_escalations": escalations,
        "corrections": corrections,
        "referrals": referrals,
        "delivery_failures": failures,
    }


def _channels(session: Session, practice_id: int, rng: random.Random) -> int:
    visits = session.exec(
        select(Appointment)
        .where(
            Appointment.practice_id == practice_id,
            col(Appointment.status).in_((AppointmentStatus.COMPLETED, AppointmentStatus.BOOKED)),
        )
        .order_by(col(Appointment.id))
    ).all()
    by_text = 0
    for visit in visits:
        draw = rng.random()
        if draw < BY_TEXT_SHARE:
            visit.source, by_text = "bot", by_text + 1
        elif draw < BY_TEXT_SHARE + BY_STAFF_SHARE:
            visit.source = "staff"
        session.add(visit)
    return by_text


def _escalations(session: Session, practice_id: int, now: datetime, rng: random.Random) -> int:
    """Two or three resolved escalations a month for the past six months, on real texts from patients."""
    nurse = session.exec(
        select(StaffUser).where(StaffUser.practice_id == practice_id, StaffUser.role == Role.NURSE)
    ).first()
    texts = session.exec(
        select(Message)
        .where(
            Message.practice_id == practice_id,
            Message.direction == "in",
            Message.created_at < now - timedelta(days=3),
            Message.created_at > now - timedelta(days=190),
        )
        .order_by(col(Message.id))
    ).all()
    taken = set(session.exec(select(Escalation.message_id).where(Escalation.practice_id == practice_id)))
    made = 0
    for message in texts:
        if message.id in taken or rng.random() > 0.35:
            continue
        at = to_utc(message.created_at)
        wait = timedelta(minutes=rng.choice(WAITS_MIN))
        urgency = rng.choice((Urgency.ROUTINE, Urgency.ROUTINE, Urgency.URGENT, Urgency.EMERGENCY))
        session.add(
            Escalation(
                practice_id=practice_id,
                patient_id=message.patient_id,
                message_id=message.id,
                urgency=urgency,
                reason="needs_reply" if urgency == Urgency.ROUTINE else "side_effect_concern",
                status="resolved",
                assigned_staff_id=nurse.id if nurse else None,
                created_at=at,
                paged_at=at if urgency != Urgency.ROUTINE else None,
                acknowledged_at=at + wait,
                acknowledged_by=nurse.id if nurse else None,
                resolved_at=at + wait + timedelta(minutes=12),
                note="Called the patient back.",
            )
        )
        made += 1
    return made


def _corrections(session: Session, practice_id: int, rng: random.Random) -> int:
    manager = session.exec(
        select(StaffUser).where(StaffUser.practice_id == practice_id, StaffUser.role == Role.MANAGER)
    ).first()
    texts = [
        m
        for m in session.exec(
            select(Message)
            .where(Message.practice_id == practice_id, Message.direction == "in")
            .order_by(col(Message.created_at))
        )
        if m.decision and m.decision.get("intent")
    ]
    made = 0
    for index, message in enumerate(texts):
        if rng.random() > 0.3:
            continue
        intent, urgency = CORRECTIONS[index % len(CORRECTIONS)]
        original = message.decision or {}
        if original.get("intent") == intent and (original.get("urgency") or "none") == urgency:
            continue  # that decision was right: nothing to correct
        session.add(
            Correction(
                practice_id=practice_id,
                message_id=message.id,
                staff_user_id=manager.id if manager else None,
                original_intent=original.get("intent"),
                original_urgency=original.get("urgency") or Urgency.NONE,
                intent=intent,
                urgency=urgency,
                note="marked in the weekly transcript review",
                created_at=to_utc(message.created_at) + timedelta(days=1),
            )
        )
        made += 1
    return made


def _referrals(session: Session, practice_id: int, now: datetime, rng: random.Random) -> int:
    """A referral code handed out to about one patient in six, spread over the months; a third of them booked
    (the friend is another demo patient whose first visit came after the code)."""
    patients = session.exec(select(Patient).where(Patient.practice_id == practice_id).order_by(col(Patient.id))).all()
    firsts = {
        patient_id: to_utc(first)
        for patient_id, first in session.exec(
            select(Appointment.patient_id, func.min(Appointment.start_at))
            .where(Appointment.practice_id == practice_id)
            .group_by(col(Appointment.patient_id))
        )
    }
    made = 0
    for patient in patients:
        if rng.random() > 0.17:
            continue
        issued = now - timedelta(days=rng.randint(5, 220))
        friend = next(
            (p for p in patients if p.id != patient.id and firsts.get(p.id, now) > issued + timedelta(days=3)), None
        )
        booked = friend is not None and rng.random() < 0.35
        session.add(
            Referral(
                practice_id=practice_id,
                referrer_id=patient.id,
                code=f"GLOW{patient.id:03d}",
                friend_first_name=friend.first_name if booked and friend else None,
                referred_patient_id=friend.id if booked and friend else None,
                status="booked" if booked else "issued",
                created_at=issued,
                booked_at=firsts.get(friend.id) if booked and friend else None,
            )
        )
        made += 1
    return made


def _delivery_failures(session: Session, practice_id: int, rng: random.Random) -> int:
    texts = session.exec(
        select(Message)
        .where(Message.practice_id == practice_id, Message.direction == "out", Message.status == "delivered")
        .order_by(col(Message.id))
    ).all()
    made = 0
    for message in texts:
        if rng.random() < FAILURE_SHARE:
            message.status, message.error_code = "undelivered", rng.choice(FAILURE_CODES)
            session.add(message)
            made += 1
    return made
