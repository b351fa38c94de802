"""Referrals: a personal code on request; a booking with it thanks the referrer and tells the team."""

from __future__ import annotations

import copy
import re
from datetime import timedelta

from sqlmodel import select

from app import create_app
from bot import runtime
from handlers.referral import ensure_code
from store.db import session_scope
from store.models import Escalation, Patient, Practice, Referral, Touch
from tests import factories
from tests.helpers import APPOINTMENT, PATIENT, dispatch_all, post_appointment, sent_to, text_in


def _seed(db_url, clock, marketing=True):
    with session_scope(db_url) as session:
        practice = factories.practice(session, name="Glow Aesthetics")
        patient = factories.patient(session, practice.id, marketing_sms=marketing)
        factories.appointment(
            session, patient, factories.service(session, practice.id), clock.now() - timedelta(days=20)
        )
        return patient.id


FRIEND = "+15125550177"
"""The referred friend's phone."""


def _friend_books(code: str, language: str = "es", marketing: bool = False, care: bool = True) -> dict:
    friend = copy.deepcopy(APPOINTMENT)
    friend["status"] = "booked"
    friend["start"], friend["end"] = "2026-12-01T10:00:00-06:00", "2026-12-01T10:30:00-06:00"
    friend["patient"] = {
        **friend["patient"],
        "external_id": "C-99",
        "first_name": "Bea",
        "last_name": "Lopez",
        "phone": FRIEND,
        "language": language,
        "consent": {**friend["patient"]["consent"], "care_sms": care, "marketing_sms": marketing},
    }
    friend["referral_code"] = code
    response = post_appointment(create_app(runtime.settings()).test_client(), friend)
    assert response.status_code == 200, response.json
    return response.json


def test_a_patient_who_asks_gets_their_own_code(settings, twilio, clock, db_url):
    patient_id = _seed(db_url, clock)
    text_in("my sister wants to come in, do you have a referral code?")
    [reply] = sent_to(twilio, PATIENT)
    code = re.search(r"code (GA-ANA[A-Z2-9]{4})", reply).group(1)
    assert reply == (
        f"Thank you, Ana! Your friend can give code {code} when they book (reply here or call "
        "(512) 555-0199). When they come in, you'll both get a thank-you from us on your next visit."
    )
    text_in("can I refer my friend Jess too?")
    assert code in sent_to(twilio, PATIENT)[-1]  # the same code every time
    with session_scope(db_url) as session:
        assert session.get(Patient, patient_id).referral_code == code
        assert [r.status for r in session.exec(select(Referral))] == ["issued", "issued"]


def test_a_booking_with_the_code_welcomes_the_friend_thanks_the_referrer_at_once_and_tells_the_team(
    settings, twilio, clock, db_url
):
    patient_id = _seed(db_url, clock)
    text_in("my sister wants to come in, do you have a referral code?")
    with session_scope(db_url) as session:
        code = session.get(Patient, patient_id).referral_code
    # A care text reached the referrer an hour ago: the 12-hour gap between texts does not hold the thank-you.
    with session_scope(db_url) as session:
        session.add(
            Touch(
                practice_id=session.get(Patient, patient_id).practice_id,
                patient_id=patient_id,
                plan="filler",
                step="checkin",
                purpose="care",
                due_at=clock.now() - timedelta(hours=1),
                status="sent",
                sent_at=clock.now() - timedelta(hours=1),
            )
        )
    booked = _friend_books(code)
    with session_scope(db_url) as session:
        referral = session.exec(select(Referral).where(Referral.status == "booked")).one()
        assert (referral.referrer_id, referral.referred_patient_id) == (patient_id, booked["patient_id"])
        assert session.exec(select(Referral)).all() == [referral]  # the code asked for by text is the one linked
        item = session.exec(select(Escalation).where(Escalation.reason == "referral_booked")).one()
        assert (item.patient_id, item.urgency, item.status) == (patient_id, "routine", "open")
        assert item.note == f"Bea L. booked Tuesday, Dec 1 at 10:00 AM with {code}: apply the referral reward for both."
        thanks = session.exec(select(Touch).where(Touch.plan == "referred")).one()
        assert thanks.patient_id == patient_id and thanks.marketing
    _friend_books(code)  # the practice system sends the same booking again
    with session_scope(db_url) as session:
        assert len(session.exec(select(Touch).where(Touch.plan == "referred")).all()) == 1
        assert len(session.exec(select(Touch).where(Touch.plan == "welcome")).all()) == 1
    clock.advance(seconds=20)  # the worker's next tick
    dispatch_all(runtime.settings(), rounds=2)
    assert sent_to(twilio, PATIENT)[-1] == (
        "Great news, Ana! Someone you referred just booked with Glow Aesthetics. "
        "Your thank-you is waiting for you at your next visit. Reply STOP to opt out."
    )
    # The friend (Spanish, care consent only): a welcome with the booking, nothing that markets.
    assert sent_to(twilio, FRIEND) == [
        "Glow Aesthetics: Bea, ¡te esperamos el martes 1 de diciembre a las 10:00 con Dr. Lee! ¿Cambios? Escríbenos."
    ]
    with session_scope(db_url) as session:
        welcome = session.exec(select(Touch).where(Touch.plan == "welcome")).one()
        assert (welcome.patient_id, welcome.step, welcome.marketing, welcome.status) == (
            booked["patient_id"],
            "welcome",
            False,
            "sent",
        )


def test_a_friend_with_marketing_consent_also_hears_of_the_thank_you(settings, twilio, clock, db_url):
    patient_id = _seed(db_url, clock)
    with session_scope(db_url) as session:
        patient = session.get(Patient, patient_id)
        code = ensure_code(session, patient, session.get(Practice, patient.practice_id))
    _friend_books(code, language="en", marketing=True)
    clock.advance(seconds=20)
    dispatch_all(runtime.settings(), rounds=2)
    assert sent_to(twilio, FRIEND) == [
        "Welcome to Glow Aesthetics, Bea! You're booked for Tuesday, Dec 1 at 10:00 AM with Dr. Lee. A friend "
        "referred you, so a thank-you waits for you at your visit. Reply STOP to opt out."
    ]


def test_a_friend_without_care_consent_is_not_texted(settings, twilio, clock, db_url):
    patient_id = _seed(db_url, clock)
    with session_scope(db_url) as session:
        patient = session.get(Patient, patient_id)
        code = ensure_code(session, patient, session.get(Practice, patient.practice_id))
    _friend_books(code, care=False)
    clock.advance(seconds=20)
    dispatch_all(runtime.settings(), rounds=2)
    assert sent_to(twilio, FRIEND) == []
    with session_scope(db_url) as session:
        welcome = session.exec(select(Touch).where(Touch.plan == "welcome")).one()
        assert (welcome.status, welcome.reason) == ("skipped", "no_care_consent")
    assert len(sent_to(twilio, PATIENT)) == 1  # the referrer is still thanked


def test_without_marketing_consent_the_thank_you_is_not_texted(settings, twilio, clock, db_url):
    patient_id = _seed(db_url, clock, marketing=False)
    with session_scope(db_url) as session:
        patient = session.get(Patient, patient_id)
        code = ensure_code(session, patient, session.get(Practice, patient.practice_id))
    _friend_books(code)
    clock.advance(seconds=20)
    dispatch_all(runtime.settings(), rounds=2)
    assert sent_to(twilio, PATIENT) == []
    with session_scope(db_url) as session:
        thanks = session.exec(select(Touch).where(Touch.plan == "referred")).one()
        assert (thanks.status, thanks.reason) == ("skipped", "no_marketing_consent")
        assert session.exec(select(Escalation.reason)).one() == "referral_booked"


def test_codes_are_unique_and_easy_to_read(settings, db_url):
    with session_scope(db_url) as session:
        practice = factories.practice(session, name="Glow Aesthetics")
        codes = {
            ensure_code(
                session, factories.patient(session, practice.id, phone=f"+1512555{n:04d}", first_name="Ana"), practice
            )
            for n in range(60)
        }
    assert len(codes) == 60
    assert all(re.fullmatch(r"GA-ANA[A-HJ-NP-Z2-9]{4}", code) for code in codes)
