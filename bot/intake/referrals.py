"""A new patient who books with a referral code: linked to the referrer, who is thanked at once; the new
patient is welcomed with their booking on their own consent; the team gets an inbox item to apply the reward."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session, col, select

from bot import runtime
from bot.clock import local_zone
from bot.touches import composer
from bot.touches.planner import due_time
from bot.touches.plans import REFERRED, WELCOME, plans_for
from store.models import (
    Appointment,
    Escalation,
    Location,
    Patient,
    Practice,
    Referral,
    Touch,
)

WELCOME_STEP, WELCOME_GIFT_STEP = "welcome", "welcome_gift"
"""The new patient's welcome: the care text on care consent, the one that also names the thank-you on
marketing consent."""

log = logging.getLogger(__name__)


def link_referral(
    session: Session, practice_id: int, patient: Patient, appointment: Appointment, code: str, now: datetime
) -> None:
    referrer = session.exec(
        select(Patient).where(Patient.practice_id == practice_id, Patient.referral_code == code)
    ).first()
    if referrer is None or referrer.id == patient.id:
        return
    if patient.referred_by_id is None:
        patient.referred_by_id = referrer.id
        session.add(patient)
    referral = session.exec(
        select(Referral).where(Referral.code == code, Referral.referred_patient_id == patient.id)
    ).first()
    if referral is None:  # the referral the referrer asked for by text, else a new one
        referral = session.exec(
            select(Referral)
            .where(Referral.code == code, Referral.status == "issued", col(Referral.referred_patient_id).is_(None))
            .order_by(col(Referral.id))
        ).first()
        referral = referral or Referral(practice_id=practice_id, referrer_id=referrer.id, code=code, created_at=now)
        referral.referred_patient_id = patient.id
    if referral.status == "issued" and appointment.status in ("booked", "completed"):
        referral.status = "booked"
        referral.booked_at = now
        referral.appointment_id = appointment.id
        _thank_referrer(session, referrer, patient, appointment, now)
        _welcome(session, patient, appointment, now)
    session.add(referral)


def _thank_referrer(
    session: Session, referrer: Patient, friend: Patient, appointment: Appointment, now: datetime
) -> None:
    """Plan the referrer's thank-you text (the `referred` plan) and put the reward in the team's inbox."""
    practice = session.get(Practice, referrer.practice_id)
    location = session.get(Location, appointment.location_id) if appointment.location_id else None
    when = composer.visit_time(appointment.start_at, local_zone(location, practice), "en")
    initial = f" {friend.last_name[0]}." if friend.last_name else ""
    name = f"{friend.first_name}{initial}" if friend.first_name else "A new patient"
    session.add(
        Escalation(
            practice_id=referrer.practice_id,
            patient_id=referrer.id,
            urgency="routine",
            reason="referral_booked",
            created_at=now,
            note=f"{name} booked {when} with {referrer.referral_code}: apply the referral reward for both.",
        )
    )
    plan = plans_for(runtime.settings()).plans.get(REFERRED)
    for step in plan.steps if plan else ():
        _plan_step(session, referrer, appointment, REFERRED, step, now, practice)


def _welcome(session: Session, friend: Patient, appointment: Appointment, now: datetime) -> None:
    """Plan the new patient's welcome with their booking: one text, the care one unless they gave marketing
    consent (then the one that also names the thank-you). The send rules check their consent again."""
    if appointment.status != "booked":
        return  # a visit already done needs no confirmation
    plan = plans_for(runtime.settings()).plans.get(WELCOME)
    wanted = WELCOME_GIFT_STEP if friend.marketing_sms else WELCOME_STEP
    practice = session.get(Practice, friend.practice_id)
    for step in plan.steps if plan else ():
        if step.key == wanted:
            _plan_step(session, friend, appointment, WELCOME, step, now, practice)


def _plan_step(session: Session, patient: Patient, appointment: Appointment, plan: str, step, now, practice) -> None:
    session.add(
        Touch(
            practice_id=patient.practice_id,
            patient_id=patient.id,
            appointment_id=appointment.id,
            plan=plan,
            step=step.key,
            purpose=step.purpose,
            channel=step.channel,
            marketing=step.marketing,
            due_at=due_time(now, step, local_zone(None, practice)),
            status="scheduled" if patient.opted_out_at is None else "skipped",
            reason=None if patient.opted_out_at is None else "opted_out",
            created_at=now,
            updated_at=now,
        )
    )
