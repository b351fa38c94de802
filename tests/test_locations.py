"""Per location: a patient's texts give the numbers, address and review link of the location they visited."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.touches import composer
from store.db import session_scope
from store.models import Location, Patient, Practice
from tests import factories
from tests.helpers import PATIENT, add_touch, dispatch_all, sent_to, text_in

MIAMI_LINE = "+13055550199"
MIAMI_REVIEW = "https://g.page/r/glow-miami/review"
MIAMI_ADDRESS = "1200 Brickell Ave, Suite 500, Miami, FL 33131"


@pytest.fixture(params=["en", "es"])
def miami_patient(request, settings, clock, db_url):
    """A practice whose Austin location has no lines of its own, and Ana (in English or Spanish), seen
    yesterday at its Miami location, which has its own phone, emergency line, address and review link."""
    with session_scope(db_url) as session:
        practice = factories.practice(
            session,
            emergency_line="+15125550177",
            review_url="https://g.page/r/glow-austin/review",
            facts={"sender_name": "Carla"},
        )
        miami = Location(
            practice_id=practice.id,
            external_id="L-MIA",
            name="Miami",
            timezone="America/New_York",
            sms_number="+13055550100",
            phone="+13055550100",
            emergency_line=MIAMI_LINE,
            review_url=MIAMI_REVIEW,
            address=MIAMI_ADDRESS,
            state="FL",
        )
        session.add(miami)
        session.flush()
        patient = factories.patient(session, practice.id, language=request.param)
        service = factories.service(session, practice.id)
        appointment = factories.appointment(
            session, patient, service, clock.now() - timedelta(days=1), location_id=miami.id
        )
        return {
            "practice_id": practice.id,
            "patient_id": patient.id,
            "appointment_id": appointment.id,
            "language": request.param,
        }


def test_a_safety_reply_gives_the_visited_locations_emergency_line(settings, twilio, clock, miami_patient):
    text_in("my lip is turning white and blotchy and it hurts a lot")
    [reply] = sent_to(twilio, PATIENT)
    assert "(305) 555-0199" in reply and "(512) 555-0177" not in reply


@pytest.mark.parametrize("plan, step, purpose", [("filler", "checkin", "care"), ("everyone", "review", "review")])
def test_a_touch_carries_the_visited_locations_line_and_review_link(
    settings, twilio, clock, miami_patient, db_url, plan, step, purpose
):
    add_touch(db_url, miami_patient, plan=plan, step=step, purpose=purpose)
    dispatch_all(settings)
    [text] = sent_to(twilio, PATIENT)
    if step == "review":
        assert text.endswith(MIAMI_REVIEW)
    else:
        assert "(305) 555-0199" in text
    assert "(512) 555-0177" not in text and "glow-austin" not in text


def test_a_location_without_its_own_values_gives_the_practices():
    practice = Practice(
        name="Glow",
        slug="glow",
        phone="+15125550100",
        emergency_line="+15125550177",
        review_url="https://g.page/r/glow-austin/review",
        facts={"address": "1600 S Congress Ave, Austin, TX 78704"},
    )
    patient = Patient(practice_id=1, phone=PATIENT, first_name="Ana")
    miami = Location(
        practice_id=1, name="Miami", phone="+13055550100", emergency_line=MIAMI_LINE, review_url=MIAMI_REVIEW
    )
    miami.address = MIAMI_ADDRESS
    own = composer.context_for(practice, patient, location=miami)
    assert (own["practice_phone"], own["emergency_line"], own["review_url"], own["address"]) == (
        "(305) 555-0100",
        "(305) 555-0199",
        MIAMI_REVIEW,
        MIAMI_ADDRESS,
    )
    austin = Location(practice_id=1, name="Austin")
    fallback = composer.context_for(practice, patient, location=austin)
    assert (fallback["practice_phone"], fallback["emergency_line"], fallback["review_url"], fallback["address"]) == (
        "(512) 555-0100",
        "(512) 555-0177",
        "https://g.page/r/glow-austin/review",
        "1600 S Congress Ave, Austin, TX 78704",
    )
