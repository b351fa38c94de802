"""The on-call roster decides who is paged: by location, weekday and local hours, with backups."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.staff import paging, roster
from bot.staff.admin import AdminError
from store.db import session_scope
from store.models import Escalation, Location, OnCallShift, Service, StaffUser
from tests import factories
from tests.helpers import sent_to, text_in

NURSE, INJECTOR, MANAGER, MIAMI_NURSE = "+15125550111", "+15125550122", "+15125550133", "+13055550144"
MIAMI_NUMBER = "+13055550100"
MONDAY = 0


@pytest.fixture
def spa(settings, clock, db_url):
    """Austin (Chicago time) and Miami (New York time); Ana had lip filler in Austin yesterday; Nina is the
    standing on-call, Ivy works Austin, Rosa works Miami, Mo manages. The clock reads Monday 10:00 in Austin."""
    with session_scope(db_url) as session:
        practice = factories.practice(session)
        austin = session.exec(select(Location)).one()
        miami = Location(
            practice_id=practice.id,
            external_id="L-2",
            name="Miami",
            timezone="America/New_York",
            sms_number=MIAMI_NUMBER,
        )
        session.add(miami)
        session.flush()
        patient = factories.patient(session, practice.id)
        service = factories.service(session, practice.id)
        factories.appointment(session, patient, service, clock.now() - timedelta(days=1), location_id=austin.id)
        people = [
            StaffUser(practice_id=practice.id, name="Nina Nurse", role="nurse", phone=NURSE, on_call=True),
            StaffUser(practice_id=practice.id, name="Ivy Injector", role="injector", phone=INJECTOR),
            StaffUser(practice_id=practice.id, name="Mo Manager", role="manager", phone=MANAGER),
            StaffUser(practice_id=practice.id, name="Rosa Nurse", role="nurse", phone=MIAMI_NURSE),
            StaffUser(practice_id=practice.id, name="No Phone", role="nurse"),
        ]
        session.add_all(people)
        session.flush()
        return {
            "practice_id": practice.id,
            "patient_id": patient.id,
            "austin": austin.id,
            "miami": miami.id,
            **{key: p.id for key, p in zip(("nina", "ivy", "mo", "rosa", "nophone"), people, strict=True)},
        }


def _shift(db_url, spa, who, duty="on_call", days=(MONDAY,), start="08:00", end="18:00", location="austin"):
    with session_scope(db_url) as session:
        roster.add_shift(session, spa["practice_id"], spa[who], duty, list(days), start, end, spa.get(location))


def _who_is_paged(db_url, spa, urgency, round_=1, location=None, clock=None):
    with session_scope(db_url) as session:
        escalation = Escalation(
            practice_id=spa["practice_id"],
            patient_id=None if location else spa["patient_id"],
            urgency=urgency,
            reason="x",
        )
        session.add(escalation)
        session.flush()
        if location:  # an escalation about a patient whose last visit was there
            other = factories.patient(session, spa["practice_id"], phone="+13055550199", first_name="Luz")
            service = session.exec(select(Service)).first()
            factories.appointment(session, other, service, clock.now() - timedelta(days=2), location_id=spa[location])
            escalation.patient_id = other.id
        return sorted(p.name for p in paging.recipients(session, escalation, round_))


def test_without_a_roster_the_standing_flags_decide(spa, db_url):
    assert _who_is_paged(db_url, spa, "urgent") == ["Nina Nurse"]


def test_the_rostered_clinician_is_paged_at_the_visited_location_in_its_hours(spa, db_url, clock):
    _shift(db_url, spa, "ivy")  # Austin, Monday 08:00-18:00
    _shift(db_url, spa, "rosa", location="miami")
    assert _who_is_paged(db_url, spa, "urgent") == ["Ivy Injector"]  # Ana was seen in Austin: not Rosa, not Nina
    assert _who_is_paged(db_url, spa, "urgent", location="miami", clock=clock) == ["Rosa Nurse"]
    clock.advance(hours=8, minutes=1)  # Monday 18:01 in Austin: the shift is over, the standing on-call takes it
    assert _who_is_paged(db_url, spa, "urgent") == ["Nina Nurse"]


def test_an_emergency_pages_the_rostered_backup_too_and_the_repage_goes_to_backup_and_managers(spa, db_url):
    _shift(db_url, spa, "ivy")
    _shift(db_url, spa, "rosa", duty="backup", location=None)  # backup at every location
    assert _who_is_paged(db_url, spa, "urgent") == ["Ivy Injector"]
    assert _who_is_paged(db_url, spa, "emergency") == ["Ivy Injector", "Rosa Nurse"]
    assert _who_is_paged(db_url, spa, "emergency", round_=2) == ["Mo Manager", "Rosa Nurse"]


def test_a_red_flag_text_pages_the_clinician_on_the_roster(spa, settings, twilio, db_url):
    _shift(db_url, spa, "ivy", duty="on_call", start="09:30", end="11:00")
    text_in("my lip is turning white and blotchy and it hurts a lot")
    assert len(sent_to(twilio, INJECTOR)) == 1
    assert sent_to(twilio, NURSE) == []


@pytest.mark.parametrize(
    ("who", "duty", "days", "start", "end", "reason"),
    [
        ("nophone", "on_call", [0], "08:00", "17:00", "has no mobile number"),
        ("ivy", "sometimes", [0], "08:00", "17:00", "duty: expected one of"),
        ("ivy", "on_call", [], "08:00", "17:00", "pick at least one weekday"),
        ("ivy", "on_call", [0], "8am", "17:00", "start: expected a time like 08:00"),
        ("ivy", "on_call", [0], "18:00", "08:00", "end: must be after start"),
    ],
)
def test_a_bad_roster_line_is_refused_and_writes_nothing(spa, db_url, who, duty, days, start, end, reason):
    with pytest.raises(AdminError, match=reason), session_scope(db_url) as session:
        roster.add_shift(session, spa["practice_id"], spa[who], duty, days, start, end, spa["austin"])
    with session_scope(db_url) as session:
        assert session.exec(select(OnCallShift)).all() == []


def test_a_roster_line_names_only_this_practices_staff_and_locations(spa, db_url):
    with session_scope(db_url) as session:
        other = factories.practice(session, slug="other", name="Other Spa")
        stranger = factories.staff(session, other.id, phone="+15125550188")
        elsewhere = session.exec(select(Location).where(Location.practice_id == other.id)).one()
        with pytest.raises(AdminError, match="no such staff member"):
            roster.add_shift(session, spa["practice_id"], stranger.id, "on_call", [0], "08:00", "17:00")
        with pytest.raises(AdminError, match="no such location"):
            roster.add_shift(session, spa["practice_id"], spa["ivy"], "on_call", [0], "08:00", "17:00", elsewhere.id)
