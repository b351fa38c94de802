"""Booking by text: real open times offered from provider hours and the calendar, a pick becomes a requested visit."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from bot.booking import open_times as slots
from bot.metrics.figures import booked_by_text
from bot.metrics.periods import last_days
from store.db import session_scope
from store.models import (
    Appointment,
    AuditEvent,
    ConversationState,
    Escalation,
    Location,
    Patient,
    Provider,
    Service,
    Touch,
)
from tests import factories
from tests.helpers import (
    HOURS,
    PATIENT,
    answer_request,
    chicago_utc,
    front_desk,
    sent_to,
    text_in,
)


def _pending(db_url, patient_id):
    with session_scope(db_url) as session:
        state = session.get(ConversationState, patient_id)
        return state.pending if state else None


def test_a_booking_wish_gets_three_real_times_matching_the_day_asked(settings, twilio, clock, spa, db_url):
    text_in("can I come in tuesday morning?")
    [offer] = sent_to(twilio, PATIENT)
    assert offer == (
        "Hi Ana! Open times for your next Lip filler: 1) Tue, Nov 24 9:00 AM with Maya Chen, NP; "
        "2) Tue, Nov 24 11:00 AM with Maya Chen, NP; 3) Tue, Dec 1 9:00 AM with Maya Chen, NP. "
        "Reply 1, 2 or 3 to pick one, or tell us a day that suits you better."
    )
    pending = _pending(db_url, spa["patient_id"])
    assert pending["kind"] == "slots" and len(pending["options"]) == 3
    with session_scope(db_url) as session:
        assert session.exec(select(Escalation)).all() == []  # no person needed yet


def test_a_pick_becomes_a_requested_visit_for_the_front_desk(settings, twilio, clock, spa, db_url):
    text_in("can I come in tuesday morning?")
    text_in("3")
    confirmation = sent_to(twilio, PATIENT)[-1]
    assert confirmation == (
        "Thanks, Ana! We've asked for Tuesday, Dec 1 at 9:00 AM with Maya Chen, NP for your "
        "Lip filler. The front desk will text you shortly to confirm. Want to add touch-up to this visit? "
        "Reply ADD. - Glow Test Spa. Reply STOP to opt out."
    )  # the add-on of the matrix (bot.growth.booking): Ana has marketing consent, it is 10:00 in Austin
    with session_scope(db_url) as session:
        booked = session.exec(select(Appointment).where(Appointment.status == "requested")).one()
        assert (booked.provider_id, booked.service_id, booked.source) == (spa["provider_id"], spa["service_id"], "bot")
        assert booked.start_at.replace(tzinfo=UTC) == chicago_utc(2026, 12, 1, 9)
        assert booked.end_at - booked.start_at == timedelta(minutes=45)
        escalation = session.exec(select(Escalation)).one()
        assert (escalation.urgency, escalation.reason) == ("routine", "booking_request")
        assert escalation.note.startswith("Asked by text for Tue, Dec 1 9:00 AM with Maya Chen, NP: Lip filler.")
        rebook = session.exec(select(Touch).where(Touch.purpose == "rebook")).one()
        assert (rebook.status, rebook.reason) == ("suppressed", "rebooked")
    # The offer stays, so that a change of mind before the front desk answers moves the request.
    assert _pending(db_url, spa["patient_id"])["moves"] == booked.id


def test_a_time_taken_meanwhile_is_not_booked_and_new_times_are_offered(settings, twilio, clock, spa, db_url):
    text_in("can I come in tuesday morning?")
    with session_scope(db_url) as session:  # the front desk books Tuesday 9:00 for someone else
        other = factories.patient(session, spa["practice_id"], phone="+15125550188", first_name="Bea")
        factories.appointment(
            session,
            other,
            session.get(Service, spa["service_id"]),
            chicago_utc(2026, 11, 24, 9),
            provider_id=spa["provider_id"],
            status="booked",
        )
    text_in("1")
    retry = sent_to(twilio, PATIENT)[-1]
    assert retry.startswith("Sorry, Ana, that time was just taken. Still open: 1) Tue, Nov 24 10:00 AM with Maya")
    with session_scope(db_url) as session:
        assert session.exec(select(Appointment).where(Appointment.status == "requested")).all() == []


def test_an_old_offer_cannot_be_picked_by_number(settings, twilio, clock, spa, db_url):
    text_in("can I come in tuesday morning?")
    clock.advance(hours=49)
    text_in("1")
    with session_scope(db_url) as session:
        assert session.exec(select(Appointment).where(Appointment.status == "requested")).all() == []
    assert sent_to(twilio, PATIENT)[-1].startswith("Hi Ana! Open times")


def test_spanish_patients_are_offered_times_in_spanish(settings, twilio, clock, spa, db_url):
    with session_scope(db_url) as session:
        session.get(Patient, spa["patient_id"]).language = "es"
    text_in("quiero una cita el jueves en la tarde por favor")
    [offer] = sent_to(twilio, PATIENT)
    assert offer.startswith(
        "¡Hola Ana! Horarios para tu proxima cita de Lip filler: 1) jue 26 nov 12:00 con Maya Chen, NP;"
    )
    text_in("la primera")
    assert sent_to(twilio, PATIENT)[-1].startswith(
        "¡Gracias, Ana! Pedimos el jueves 26 de noviembre a las 12:00 con Maya"
    )


def test_with_nothing_open_a_person_answers(settings, twilio, clock, spa, db_url):
    with session_scope(db_url) as session:
        session.get(Provider, spa["provider_id"]).working_hours = {}
    text_in("can I come in tuesday morning?")
    assert sent_to(twilio, PATIENT) == [
        "Thanks, Ana! Someone from our team will text you back shortly with times that work."
    ]
    with session_scope(db_url) as session:
        assert session.exec(select(Escalation.reason)).one() == "needs_reply:rebook_request"


# --------------------------------------------------------------- the calendar


def test_open_times_step_around_bookings_and_their_buffers(settings, clock, spa, db_url):
    with session_scope(db_url) as session:
        service = session.get(Service, spa["service_id"])
        maya = session.get(Provider, spa["provider_id"])
        other = factories.patient(session, spa["practice_id"], phone="+15125550188", first_name="Bea")
        factories.appointment(
            session, other, service, chicago_utc(2026, 11, 24, 9), provider_id=maya.id, status="booked"
        )
        factories.appointment(
            session, other, service, chicago_utc(2026, 11, 24, 10), provider_id=maya.id, status="cancelled"
        )
        found = slots.open_slots(session, service, [maya], "America/Chicago", clock.now(), count=200)
        offered = slots.open_slots(session, service, [maya], "America/Chicago", clock.now())
    tuesday = [s.start for s in found if s.start.date() == date(2026, 11, 24)]
    assert tuesday[0] == chicago_utc(2026, 11, 24, 10)  # 9:00-9:45 + 10 min buffer; the cancelled 10:00 is free
    assert max(tuesday) == chicago_utc(2026, 11, 24, 16)  # 16:00 + 45 min still ends by 17:00
    assert all(s.start >= clock.now() + slots.MIN_NOTICE for s in found)
    assert len({s.start.date() for s in offered}) == 3  # spread over days first


@pytest.mark.parametrize(
    "days, times, expect",
    [
        ("tuesday", None, lambda t: t.weekday() == 1),
        ("weekend", None, lambda t: t.weekday() in (5, 6)),
        ("next week", None, lambda t: t.date() >= date(2026, 11, 30)),
        ("tomorrow", None, lambda t: t.date() == date(2026, 11, 24)),
        (None, "morning", lambda t: t.hour < 12),
        (None, "after work", lambda t: t.hour >= 16),
        (None, "3pm", lambda t: time(14) <= t.time() <= time(16, 30)),
        ("viernes", "en la tarde", lambda t: t.weekday() == 4 and 12 <= t.hour < 19),
        ("thursday", "afternoon", lambda t: t.weekday() == 3 and 12 <= t.hour < 17),
        ("viernes manana", "en la manana", lambda t: t.weekday() == 4 and t.hour < 12),
        ("manana", None, lambda t: t.date() == date(2026, 11, 24)),
    ],
)
def test_preferences_narrow_the_times(days, times, expect):
    prefs = slots.Preferences.parse(days, times, date(2026, 11, 23))
    start = datetime(2026, 11, 23, 0, 0)
    candidates = [start + timedelta(minutes=30 * i) for i in range(2 * 24 * 21)]
    accepted = [t for t in candidates if prefs.accepts(t)]
    assert accepted and all(expect(t) for t in accepted)
    assert len(accepted) < len(candidates)


# ------------------------------------------------------------ the front desk


def test_the_front_desk_confirms_and_the_patient_gets_the_time_and_reminders(settings, twilio, clock, spa, db_url):
    text_in("can I come in tuesday morning?")
    text_in("3")
    client, token = front_desk(db_url, spa["practice_id"])
    appointment_id, token = answer_request(client, token, db_url, "confirm")
    assert sent_to(twilio, PATIENT)[-1] == (
        "You're booked, Ana: Tuesday, Dec 1 at 9:00 AM with Maya Chen, NP for your "
        "Lip filler. Need to change it? Just reply here or call (512) 555-0199."
    )
    with session_scope(db_url) as session:
        assert session.get(Appointment, appointment_id).status == "booked"
        reminder = session.exec(
            select(Touch).where(Touch.appointment_id == appointment_id, Touch.step == "reminder")
        ).one()
        assert reminder.due_at.replace(tzinfo=UTC) == chicago_utc(2026, 11, 30, 10)
        assert session.exec(select(Escalation.status)).all() == ["resolved"]
        assert session.exec(select(AuditEvent.action).where(AuditEvent.subject_id == appointment_id)).all() == [
            "booking_confirmed"
        ]
    assert client.post(f"/appointments/{appointment_id}/confirm", data={"csrf_token": token}).status_code == 302
    assert len(sent_to(twilio, PATIENT)) == 3  # answering twice texts once


def test_the_front_desk_declines_and_the_patient_is_asked_for_another_day(settings, twilio, clock, spa, db_url):
    text_in("can I come in tuesday morning?")
    text_in("1")
    client, token = front_desk(db_url, spa["practice_id"])
    appointment_id, _token = answer_request(client, token, db_url, "decline")
    assert sent_to(twilio, PATIENT)[-1].startswith("Sorry, Ana, Tuesday, Nov 24 at 9:00 AM is no longer available.")
    with session_scope(db_url) as session:
        assert session.get(Appointment, appointment_id).status == "declined"
        # Nothing pending for the declined time: its add-on went inside the booking reply (bot.growth.booking).
        touches = session.exec(select(Touch).where(Touch.appointment_id == appointment_id)).all()
        assert [(t.plan, t.status, t.reason) for t in touches] == [("offers", "sent", "inside the booking reply")]


def test_when_their_provider_is_full_only_colleagues_who_do_the_treatment_are_offered(
    settings,
    twilio,
    clock,
    spa,
    db_url,
):
    with session_scope(db_url) as session:
        location = session.get(Location, spa["location_id"])
        session.get(Provider, spa["provider_id"]).working_hours = {}  # Maya is away
        factories.provider(
            session,
            spa["practice_id"],
            external_id="P-2",
            name="Priya Patel",
            location_id=location.id,
            working_hours=HOURS,
        )  # an aesthetician: no filler in her history
        lee = factories.provider(
            session, spa["practice_id"], external_id="P-3", name="Dr. Lee", location_id=location.id, working_hours=HOURS
        )
        other = factories.patient(session, spa["practice_id"], phone="+15125550188", first_name="Bea")
        factories.appointment(
            session,
            other,
            session.get(Service, spa["service_id"]),
            clock.now() - timedelta(days=30),
            provider_id=lee.id,
        )
    text_in("can I come in tuesday morning?")
    [offer] = sent_to(twilio, PATIENT)
    assert offer.count("with Dr. Lee") == 3 and "Priya" not in offer


def test_asking_again_for_another_day_gets_new_times(settings, twilio, clock, spa, db_url):
    text_in("can I come in tuesday morning?")
    text_in("actually, do you have anything thursday afternoon?")
    first, second = sent_to(twilio, PATIENT)
    assert "Tue, Nov 24" in first and "Thu, Nov 26 12:00 PM" in second
    assert [o["start"][:10] for o in _pending(db_url, spa["patient_id"])["options"]][0] == "2026-11-26"


def test_no_times_are_offered_while_staff_have_the_conversation(settings, twilio, clock, spa, db_url):
    with session_scope(db_url) as session:
        session.add(ConversationState(patient_id=spa["patient_id"], takeover_until=clock.now() + timedelta(hours=1)))
    text_in("can I come in tuesday morning?")
    assert sent_to(twilio, PATIENT) == []
    assert _pending(db_url, spa["patient_id"]) is None
    with session_scope(db_url) as session:
        assert session.exec(select(Escalation.reason)).one() == "needs_reply:rebook_request"


def test_the_managers_numbers_count_visits_picked_by_text(settings, twilio, clock, spa, db_url):
    period = last_days(30, clock.now(), "America/Chicago")
    with session_scope(db_url) as session:  # the rebook text went out yesterday
        touch = session.exec(select(Touch)).one()
        touch.status, touch.sent_at = "sent", clock.now() - timedelta(days=1)
    text_in("can I come in tuesday morning?")
    text_in("3")
    with session_scope(db_url) as session:
        found = booked_by_text(session, spa["practice_id"], period)
    # A picked time is a request until the front desk confirms it: no booking, no revenue yet.
    assert found == {"bookings": 0, "revenue": Decimal("0.00"), "requests_waiting": 1}
    client, token = front_desk(db_url, spa["practice_id"])
    answer_request(client, token, db_url, "confirm")
    with session_scope(db_url) as session:
        found = booked_by_text(session, spa["practice_id"], period)
    assert found == {"bookings": 1, "revenue": Decimal("750.00"), "requests_waiting": 0}


def test_hours_written_wrongly_are_skipped_not_fatal(settings, clock, spa, db_url):
    with session_scope(db_url) as session:
        maya = session.get(Provider, spa["provider_id"])
        maya.working_hours = {"mon": ["9am", "5pm"], "tue": ["09:00"], "wed": None, "thu": ["10:00", "12:00"]}
        found = slots.open_slots(
            session, session.get(Service, spa["service_id"]), [maya], "America/Chicago", clock.now(), count=50
        )
    assert found and {s.start.astimezone(UTC).weekday() for s in found} == {3}


# ------------------------------------------- new wishes while times are on offer


@pytest.mark.parametrize(
    "language, first, wish, expected",
    [
        (
            "en",
            "can I come in tuesday morning?",
            "do you have anything after 3pm on a weekday?",
            "Hi Ana! Open times for your next Lip filler: 1) Tue, Nov 24 3:00 PM with Maya Chen, NP; "
            "2) Wed, Nov 25 3:00 PM with Maya Chen, NP; 3) Thu, Nov 26 3:00 PM with Maya Chen, NP.",
        ),
        (
            "es",
            "quiero una cita el martes en la mañana",
            "¿tienen algo después de las 3 entre semana?",
            "¡Hola Ana! Horarios para tu proxima cita de Lip filler: 1) mar 24 nov 15:00 con Maya Chen, NP; "
            "2) mié 25 nov 15:00 con Maya Chen, NP; 3) jue 26 nov 15:00 con Maya Chen, NP.",
        ),
    ],
)
def test_a_new_day_and_time_asked_during_an_offer_gets_times_matching_it(
    settings, twilio, clock, spa, db_url, language, first, wish, expected
):
    with session_scope(db_url) as session:
        session.get(Patient, spa["patient_id"]).language = language
    text_in(first)
    text_in(wish)
    replies = sent_to(twilio, PATIENT)
    assert len(replies) == 2 and replies[-1].startswith(expected)
    starts = [o["start"] for o in _pending(db_url, spa["patient_id"])["options"]]
    assert starts == [chicago_utc(2026, 11, d, 15).isoformat() for d in (24, 25, 26)]
    with session_scope(db_url) as session:
        assert session.exec(select(Escalation)).all() == []  # the bot answered: nobody needs to


@pytest.mark.parametrize(
    "language, wish, direction",
    [
        ("en", "something later in the day?", "later"),
        ("es", "¿algo más tarde?", "later"),
        ("en", "anything earlier?", "earlier"),
        ("es", "¿algo un poco más temprano?", "earlier"),
    ],
)
def test_later_or_earlier_during_an_offer_offers_times_past_those_offered(
    settings, twilio, clock, spa, db_url, language, wish, direction
):
    with session_scope(db_url) as session:
        session.get(Patient, spa["patient_id"]).language = language
    text_in("can I come in next week around 11am?" if direction == "earlier" else "can I come in tuesday morning?")
    before = _pending(db_url, spa["patient_id"])["options"]
    text_in(wish)
    replies = sent_to(twilio, PATIENT)
    assert len(replies) == 2
    after = _pending(db_url, spa["patient_id"])["options"]
    assert after and {o["start"] for o in after}.isdisjoint({o["start"] for o in before})

    def hour(option):
        return datetime.fromisoformat(option["start"]).astimezone(slots.ZoneInfo("America/Chicago")).time()

    if direction == "later":
        assert min(hour(o) for o in after) > max(hour(o) for o in before)
    else:
        assert max(hour(o) for o in after) < min(hour(o) for o in before)


@pytest.mark.parametrize(
    "language, text",
    [
        ("en", "I have a bit of bruising on my lip, anything earlier?"),
        ("es", "tengo un moretón en el labio, ¿algo más temprano?"),
    ],
)
def test_a_side_effect_named_beside_a_time_wish_stays_a_side_effect(
    settings, twilio, clock, spa, db_url, language, text
):
    """A symptom beside "anything earlier?" during an offer is not swallowed by the booking: staff read it."""
    with session_scope(db_url) as session:
        session.get(Patient, spa["patient_id"]).language = language
    text_in("can I come in next week around 11am?")
    text_in(text)
    with session_scope(db_url) as session:
        reasons = [e.reason for e in session.exec(select(Escalation))]
    assert reasons and all("side_effect" in r or "redflag" in r for r in reasons), reasons


def test_a_question_about_hours_during_an_offer_is_still_answered_as_a_question(settings, twilio, clock, spa, db_url):
    text_in("can I come in tuesday morning?")
    offered = _pending(db_url, spa["patient_id"])["options"]
    text_in("are you open on saturday?")
    assert _pending(db_url, spa["patient_id"])["options"] == offered  # no new times for a question about hours


@pytest.mark.parametrize(
    "language, first, wish, expected",
    [
        ("en", "can I come in next week?", "thursday afternoon?", "1) Thu, Nov 26 12:00 PM with Maya Chen, NP"),
        ("es", "quiero una cita la próxima semana", "el jueves por la tarde", "1) jue 26 nov 12:00 con Maya Chen, NP"),
    ],
)
def test_after_turning_all_times_down_a_day_and_part_of_day_gets_new_times_not_a_declined_one(
    settings, twilio, clock, spa, db_url, language, first, wish, expected
):
    with session_scope(db_url) as session:
        session.get(Patient, spa["patient_id"]).language = language
    text_in(first)
    declined = {o["start"] for o in _pending(db_url, spa["patient_id"])["options"]}
    text_in("none of those work" if language == "en" else "ninguno me sirve")
    text_in(wish)
    assert expected in sent_to(twilio, PATIENT)[-1]
    with session_scope(db_url) as session:
        assert session.exec(select(Appointment).where(Appointment.status == "requested")).all() == []
    offered = {o["start"] for o in _pending(db_url, spa["patient_id"])["options"]}
    assert offered and offered.isdisjoint(declined)


def test_a_weekday_pick_with_a_part_of_day_that_does_not_match_picks_nothing(settings, twilio, clock, spa, db_url):
    text_in("can I come in tuesday morning?")  # Tue Nov 24 9:00 and 11:00, Tue Dec 1 9:00
    text_in("the dec 1 one but in the afternoon")
    with session_scope(db_url) as session:
        assert session.exec(select(Appointment).where(Appointment.status == "requested")).all() == []
