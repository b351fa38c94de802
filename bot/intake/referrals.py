"""A new patient who books with a referral code: linked to the referrer, who is thanked and rewarded."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session, col, select

from bot import runtime
from bot.clock import local_zone
from bot.touches.planner import due_time
from bot.touches.plans import REFERRED, plans_for
from store.models import (
    Appointment,
    Escalation,
    Patient,
    Practice,
    Referral,
    Touch,
)

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
        _thank_referrer(session, referrer, appointment, now)
    session.add(referral)


def _thank_referrer(session: Session, referrer: Patient, appointment: Appointment, now: datetime) -> None:
    """Plan the referrer's thank-you text (the `referred` plan) and put the reward in the team's inbox."""
    practice = session.get(Practice, referrer.practice_id)
    session.add(
        Escalation(
            practice_id=referrer.practice_id,
            patient_id=referrer.id,
            urgency="routine",
            reason="referral_booked",
            created_at=now,
            note=f"A new patient booked with {referrer.referral_code}: apply the referral reward.",
        )
    )
    plan = plans_for(runtime.settings()).plans.get(REFERRED)
    for step in plan.steps if plan else ():
        session.add(
            Touch(
                practice_id=referrer.practice_id,
                patient_id=referrer.id,
                appointment_id=appointment.id,
                plan=REFERRED,
                step=step.key,
                purpose=step.purpose,
                channel=step.channel,
                marketing=step.marketing,
                due_at=due_time(now, step, local_zone(None, practice)),
                status="scheduled" if referrer.opted_out_at is None else "skipped",
                reason=None if referrer.opted_out_at is None else "opted_out",
                created_at=now,
                updated_at=now,
            )
        )
