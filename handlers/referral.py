"""A patient wants to refer a friend: their personal code, and what both of them get.

The code is the patient's own (`Patient.referral_code`, made on first ask);
each ask is logged as an issued referral, with the friend's first name when the
patient gave it. When a new patient books with the code (appointments API or
CSV, `referral_code`), bot.intake.referrals links them: the referrer is thanked
by text (the `referred` plan, marketing consent and quiet hours apply; the
friend is never named) and the team gets an inbox item to apply the reward.
The friend is never texted because of the referral: only their own visit's
texts reach them, on their own consent.
"""

from __future__ import annotations

import re
import secrets

from sqlmodel import col, select

from handlers.turn import Turn
from store.models import Patient, Practice, Referral

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""No 0/O or 1/I: codes are read aloud at a front desk."""

REWARD = {"en": "a thank-you from us on your next visit", "es": "un regalo de nuestra parte en su próxima visita"}
"""What both get, unless the practice's `referral_reward` fact says (English)."""


def handle(turn: Turn) -> None:
    patient = turn.patient
    if patient is None or patient.opted_out_at is not None:
        return
    practice = turn.session.get(Practice, patient.practice_id)
    code = ensure_code(turn.session, patient, practice)
    friend = (turn.decision.entities or {}).get("friend_first_name")
    turn.session.add(
        Referral(
            practice_id=patient.practice_id,
            referrer_id=patient.id,
            code=code,
            friend_first_name=str(friend)[:60] if friend else None,
            created_at=turn.now,
        )
    )
    turn.actions.append("referral_code")
    language = turn.language()
    facts = (practice.facts if practice is not None else None) or {}
    reward = facts.get("referral_reward") if language == "en" else None
    turn.reply("referral_code", code=code, reward=reward or REWARD[language])


def ensure_code(session, patient: Patient, practice: Practice | None) -> str:
    """The patient's referral code, made once: the practice's initials, the first name's start, four random characters."""
    if patient.referral_code:
        return patient.referral_code
    prefix = (
        "".join(word[0] for word in re.findall(r"[A-Za-z]+", practice.name if practice else "")[:2]).upper() or "REF"
    )
    name = re.sub(r"[^A-Za-z]", "", patient.first_name or "").upper()[:4] or "FRND"
    while True:
        code = f"{prefix}-{name}{''.join(secrets.choice(CODE_ALPHABET) for _ in range(4))}"
        taken = session.exec(
            select(Patient.id).where(Patient.practice_id == patient.practice_id, col(Patient.referral_code) == code)
        ).first()
        if taken is None:
            patient.referral_code = code
            session.add(patient)
            return code
