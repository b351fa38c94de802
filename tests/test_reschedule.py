"""Moving and cancelling a visit by text: signed webhook, the real worker, Redis, the database and the fake Twilio."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from sqlmodel import select

from bot import runtime
from bot.touches.planner import plan_appointment
from store.db import session_scope
from store.models import Appointment, Escalation, Patient, Practice, Service, Touch
from tests import factories
from tests.helpers import (
    PATIENT,
    answer_request,
    chicago_utc,
    front_desk,
    sent_to,
    text_in,
)

POLICY = "Please give us 24 hours' notice to reschedule or cancel; late cancellations are charged $50."


@pytest.fixture
def booked(spa, clock, db_url):
    """Ana's next Lip filler with Maya: Thursday Dec 3, 2:00 PM in Austin, with its reminder planned."""
    with session_scope(db_url) as session:
        session.get(Practice, spa["practice_id"]).facts = {"cancellation_policy": POLICY}
        visit = factories.appointment(
            session,
            session.get(Patient, spa["patient_id"]),
            session.get(Service, spa["service_id"]),
            chicago_utc(2026, 12, 3, 14),
            provider_id=spa["provider_id"],
            location_id=spa["location_id"],
            status="booked",
        )
        plan_appointment(session, visit.id, clock.now())
        return visit.id


def _visit(db_url, appointment_id) -> Appointment:
    with session_scope(db_url) as session:
        found = session.get(Appointment, appointment_id)
        session.expunge(found)
        return found


def _touches(db_url, appointment_id) -> list[tuple[str, str, str | None]]:
    with session_scope(db_url) as session:
        rows = session.exec(select(Touch).where(Touch.appointment_id == appointment_id).order_by(Touch.id)).all()
        return sorted((t.step, t.status, t.reason) for t in rows)


# ------------------------------------------------------------------ cancel


def test_a_cancel_is_confirmed_first_then_frees_the_time_drops_the_reminders_and_tells_staff(
    settings,
    twilio,
    clock,
    booked,
    db_url,
):
    assert _touches(db_url, booked) == [("prep_injectable", "scheduled", None), ("reminder", "scheduled", None)]
    text_in("I need to cancel my appointment")
    assert sent_to(twilio, PATIENT) == [
        "Ana, reply YES to cancel your Lip filler on Thursday, Dec 3 at 2:00 PM, or tell us a day to move it to instead."
    ]
    assert _visit(db_url, booked).status == "booked"  # nothing happens before the yes

    text_in("YES")
    assert sent_to(twilio, PATIENT)[-1] == (
        "Done, Ana: your Lip filler on Thursday, Dec 3 at 2:00 PM is cancelled. "
        "Text us here whenever you'd like a new time."
    )
    assert _visit(db_url, booked).status == "cancelled"
    assert _touches(db_url, booked) == [  # and no "sorry we missed you"
        ("prep_injectable", "suppressed", "appointment_cancelled"),
        ("reminder", "suppressed", "appointment_cancelled"),
        ("sorry_missed", "suppressed", "cancelled_by_text"),
    ]
    with session_scope(db_url) as session:
        item = session.exec(select(Escalation).where(Escalation.reason == "visit_cancelled")).one()
        assert item.note == "Cancelled by text: Thu, Dec 3 2:00 PM, Lip filler. Update the practice system."
        patient = session.get(Patient, booked and item.patient_id)
        assert patient.opted_out_at is None and patient.care_sms  # a cancel is not an opt-out


def test_a_late_cancel_quotes_the_practices_policy(settings, twilio, clock, spa, db_url):
    with session_scope(db_url) as session:
        session.get(Practice, spa["practice_id"]).facts = {"cancellation_policy": POLICY}
        visit = factories.appointment(
            session,
            session.get(Patient, spa["patient_id"]),
            session.get(Service, spa["service_id"]),
            clock.now() + timedelta(hours=20),  # tomorrow 6:00 AM in Chicago
            provider_id=spa["provider_id"],
            location_id=spa["location_id"],
            status="booked",
        )
    text_in("can't make it tomorrow, please cancel my appointment")
    question = sent_to(twilio, PATIENT)[-1]
    assert question.startswith("Ana, reply YES to cancel your Lip filler on Tuesday, Nov 24 at 6:00 AM")
    assert question.endswith(f"Our cancellation policy: {POLICY}")
    text_in("yes please")
    assert f"is cancelled. Our cancellation policy: {POLICY}" in sent_to(twilio, PATIENT)[-1]
    with session_scope(db_url) as session:
        assert session.get(Appointment, visit.id).status == "cancelled"
        assert "(late cancel)" in session.exec(select(Escalation.note)).one()


def test_spanish_cancel_is_asked_and_confirmed_in_spanish(settings, twilio, clock, booked, spa, db_url):
    with session_scope(db_url) as session:
        session.get(Patient, spa["patient_id"]).language = "es"
    text_in("necesito cancelar mi cita")
    assert sent_to(twilio, PATIENT) == [
        "Ana, responde SÍ para cancelar tu Lip filler el jueves 3 de diciembre a las 14:00, o dinos otro día para moverla."
    ]
    text_in("Sí")
    assert sent_to(twilio, PATIENT)[-1] == (
        "Listo, Ana: cancelamos tu Lip filler el jueves 3 de diciembre a las 14:00. "
        "Escríbenos aquí cuando quieras una nueva fecha."
    )
    assert _visit(db_url, booked).status == "cancelled"


def test_no_keeps_the_visit(settings, twilio, clock, booked, db_url):
    text_in("I need to cancel my appointment")
    text_in("no")
    assert (
        sent_to(twilio, PATIENT)[-1] == "No problem, Ana: your Lip filler on Thursday, Dec 3 at 2:00 PM stays as it is."
    )
    assert _visit(db_url, booked).status == "booked"
    assert _touches(db_url, booked) == [("prep_injectable", "scheduled", None), ("reminder", "scheduled", None)]


def test_a_bare_cancel_is_an_opt_out_and_leaves_the_visit_alone(settings, twilio, clock, booked, spa, db_url):
    text_in("CANCEL")
    with session_scope(db_url) as session:
        assert session.get(Patient, spa["patient_id"]).opted_out_at is not None
    assert _visit(db_url, booked).status == "booked"
    assert not any("reply YES to cancel" in body for body in sent_to(twilio, PATIENT))


def test_a_cancel_without_an_upcoming_visit_is_told_none_is_on_file(settings, twilio, clock, spa, db_url):
    text_in("I need to cancel my appointment")
    assert sent_to(twilio, PATIENT) == [
        "Ana, we don't see an upcoming visit on file for you. Our front desk will check and text you back."
    ]
    with session_scope(db_url) as session:
        assert session.exec(select(Escalation.reason)).one() == "needs_reply:reschedule_no_visit"


@pytest.mark.parametrize(
    "language, cancel, yes",
    [("en", "I need to cancel my appointment", "yes"), ("es", "necesito cancelar mi cita", "sí")],
)
def test_a_yes_to_none_on_file_books_nothing_and_offers_no_times(
    settings, twilio, clock, spa, db_url, language, cancel, yes
):
    with session_scope(db_url) as session:
        session.get(Patient, spa["patient_id"]).language = language
    text_in(cancel)
    text_in(yes)  # it acknowledges "our front desk will check": no new booking
    [told] = sent_to(twilio, PATIENT)
    assert told.startswith("Ana, we don't see" if language == "en" else "Ana, no vemos una cita")
    with session_scope(db_url) as session:
        assert session.exec(select(Appointment).where(Appointment.source == "bot")).all() == []
        assert session.exec(select(Escalation.reason)).one() == "needs_reply:reschedule_no_visit"


@pytest.mark.parametrize(
    "language, text, told",
    [
        (
            "en",
            "I need to reschedule my appointment",
            "Ana, we don't see an upcoming visit on file. To book one: 1) Tue, Nov 24 9:00 AM with Maya Chen, NP;",
        ),
        (
            "es",
            "necesito cambiar mi cita",
            "Ana, no vemos una cita a tu nombre. Para reservar: 1) mar 24 nov 09:00 con Maya Chen, NP;",
        ),
    ],
)
def test_a_move_without_an_upcoming_visit_is_told_so_and_offered_times_to_book(
    settings, twilio, clock, spa, db_url, language, text, told
):
    with session_scope(db_url) as session:
        session.get(Patient, spa["patient_id"]).language = language
        session.add(  # an earlier text still waits for staff: the patient is answered all the same
            Escalation(
                practice_id=spa["practice_id"],
                patient_id=spa["patient_id"],
                urgency="routine",
                reason="needs_reply:question",
            )
        )
    text_in(text)
    [reply] = sent_to(twilio, PATIENT)
    assert reply.startswith(told)
    text_in("1")
    with session_scope(db_url) as session:
        request = session.exec(select(Appointment).where(Appointment.status == "requested")).one()
        assert (request.replaces_id, request.start_at.replace(tzinfo=UTC)) == (None, chicago_utc(2026, 11, 24, 9))
        assert sorted(session.exec(select(Escalation.reason)).all()) == ["booking_request", "needs_reply:question"]


# -------------------------------------------------------------------- move


def test_a_move_in_request_mode_keeps_the_old_time_until_the_front_desk_confirms(
    settings,
    twilio,
    clock,
    booked,
    spa,
    db_url,
):
    text_in("can I reschedule my appointment to tuesday morning?")
    [offer] = sent_to(twilio, PATIENT)
    assert offer == (
        "Sure, Ana! Open times to move your Lip filler to: "
        "1) Tue, Nov 24 9:00 AM with Maya Chen, NP; 2) Tue, Nov 24 11:00 AM with Maya Chen, NP; "
        "3) Tue, Dec 1 9:00 AM with Maya Chen, NP. Reply 1, 2 or 3 to pick one, or tell us a day."
    )
    text_in("the second one")
    assert sent_to(twilio, PATIENT)[-1] == (
        "Thanks, Ana! We've asked to move your Lip filler to Tuesday, Nov 24 at 11:00 AM with Maya Chen, NP. "
        "Your current time stays yours until the front desk confirms."
    )
    with session_scope(db_url) as session:
        request = session.exec(select(Appointment).where(Appointment.status == "requested")).one()
        assert (request.replaces_id, request.start_at.replace(tzinfo=UTC)) == (booked, chicago_utc(2026, 11, 24, 11))
        assert session.get(Appointment, booked).status == "booked"
        item = session.exec(select(Escalation)).one()
        assert item.reason == "booking_request"
        assert item.note.startswith("Asked by text to move Thu, Dec 3 2:00 PM to Tue, Nov 24 11:00 AM with Maya")

    client, token = front_desk(db_url, spa["practice_id"])
    request_id, _token = answer_request(client, token, db_url, "confirm")
    assert sent_to(twilio, PATIENT)[-1].startswith("You're booked, Ana: Tuesday, Nov 24 at 11:00 AM with Maya")
    assert _visit(db_url, booked).status == "moved"  # the old time is free
    assert _touches(db_url, booked) == [
        ("prep_injectable", "suppressed", "rescheduled"),
        ("reminder", "suppressed", "rescheduled"),
    ]
    assert _touches(db_url, request_id) == []  # Nov 24's reminder (the day before at 10:00) would be in the past
    with session_scope(db_url) as session:
        assert session.exec(select(Escalation.status)).all() == ["resolved"]


def test_a_move_in_direct_mode_moves_the_visit_and_its_reminders(settings, twilio, clock, booked, db_url):
    runtime.configure(runtime.settings().with_(booking_mode="direct"), clock)
    text_in("can I move my appointment to next week?")
    assert sent_to(twilio, PATIENT)[-1].startswith(
        "Sure, Ana! Open times to move your Lip filler to: 1) Mon, Nov 30 9:00 AM"
    )
    text_in("3")
    assert sent_to(twilio, PATIENT)[-1] == (
        "Done, Ana: your Lip filler is now Wednesday, Dec 2 at 9:00 AM with Maya Chen, NP. "
        "Need to change it again? Just reply here or call (512) 555-0199."
    )
    visit = _visit(db_url, booked)
    assert (visit.status, visit.start_at.replace(tzinfo=UTC)) == ("booked", chicago_utc(2026, 12, 2, 9))
    assert _touches(db_url, booked) == [
        ("prep_injectable", "scheduled", None),
        ("prep_injectable", "suppressed", "rescheduled"),
        ("reminder", "scheduled", None),
        ("reminder", "suppressed", "rescheduled"),
    ]
    with session_scope(db_url) as session:
        reminder = session.exec(select(Touch).where(Touch.status == "scheduled", Touch.step == "reminder")).one()
        assert reminder.due_at.replace(tzinfo=UTC) == chicago_utc(2026, 12, 1, 10)
        item = session.exec(select(Escalation)).one()
        assert item.reason == "visit_moved"
        assert item.note.startswith("Moved by text from Thu, Dec 3 2:00 PM to Wed, Dec 2 9:00 AM with Maya")
        assert session.exec(select(Appointment).where(Appointment.status == "requested")).all() == []


@pytest.mark.parametrize(
    "language, ask, first, second, told",
    [
        (
            "en",
            "can I reschedule my appointment to tuesday morning?",
            "the second one",
            "actually, the dec 1 one instead",
            "Thanks, Ana! We've asked to move your Lip filler to Tuesday, Dec 1 at 9:00 AM with Maya Chen, NP. "
            "Your current time stays yours until the front desk confirms.",
        ),
        (
            "es",
            "¿puedo cambiar mi cita para el martes en la mañana?",
            "la segunda",
            "mejor el 1 de diciembre",
            "¡Gracias, Ana! Pedimos pasar tu cita para el martes 1 de diciembre a las 09:00 con Maya Chen, NP; "
            "la actual sigue hasta que confirmemos.",
        ),
    ],
)
def test_a_change_of_mind_moves_the_move_request_and_keeps_the_booked_time(
    settings, twilio, clock, booked, spa, db_url, language, ask, first, second, told
):
    with session_scope(db_url) as session:
        session.get(Patient, spa["patient_id"]).language = language
    text_in(ask)
    text_in(first)
    text_in(second)
    assert sent_to(twilio, PATIENT)[-1] == told
    with session_scope(db_url) as session:
        request = session.exec(select(Appointment).where(Appointment.status == "requested")).one()
        assert (request.replaces_id, request.start_at.replace(tzinfo=UTC)) == (booked, chicago_utc(2026, 12, 1, 9))
        assert session.get(Appointment, booked).status == "booked"
        assert session.exec(select(Escalation.reason)).all() == ["booking_request"]
