"""Offers that behave: preferences, picks by number, ordinal, time or weekday, a yes, a no, a change of mind,
expiry and direct booking, through the signed webhook, the real worker, Redis, the database and the fake Twilio."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlmodel import select

from bot import runtime
from bot.booking import open_times as slots
from bot.booking import picks
from store.db import session_scope
from store.models import Appointment, ConversationState, Escalation, Patient, Touch
from tests.helpers import (
    PATIENT,
    chicago_utc,
    sent_to,
    text_in,
)

TUESDAY_OFFER = (
    "1) Tue, Nov 24 9:00 AM with Maya Chen, NP; 2) Tue, Nov 24 11:00 AM with Maya Chen, NP; "
    "3) Tue, Dec 1 9:00 AM with Maya Chen, NP"
)


def _requested(db_url) -> list[Appointment]:
    with session_scope(db_url) as session:
        rows = session.exec(select(Appointment).where(Appointment.status == "requested")).all()
        for row in rows:
            session.expunge(row)
        return rows


@pytest.mark.parametrize(
    "reply, start",
    [
        ("the 11am", chicago_utc(2026, 11, 24, 11)),
        ("11:00 works", chicago_utc(2026, 11, 24, 11)),
        ("the last one", chicago_utc(2026, 12, 1, 9)),
        ("la segunda", chicago_utc(2026, 11, 24, 11)),
        ("#3", chicago_utc(2026, 12, 1, 9)),
    ],
)
def test_a_pick_by_time_ordinal_or_number_books_that_time(settings, twilio, clock, spa, db_url, reply, start):
    text_in("can I come in tuesday morning?")
    text_in(reply)
    [request] = _requested(db_url)
    assert request.start_at.replace(tzinfo=UTC) == start


def test_a_pick_by_weekday_books_that_day(settings, twilio, clock, spa, db_url):
    text_in("anything wednesday or thursday afternoon?")
    offer = sent_to(twilio, PATIENT)[-1]
    assert "Wed, Nov 25" in offer and "Thu, Nov 26" in offer
    text_in("thursday's good")
    [request] = _requested(db_url)
    assert request.start_at.replace(tzinfo=UTC).date() == date(2026, 11, 26)


def test_weekdays_after_a_time_are_applied(settings, twilio, clock, spa, db_url):
    text_in("can I book a weekday after 3?")
    offer = sent_to(twilio, PATIENT)[-1]
    assert offer.startswith("Hi Ana! Open times for your next Lip filler: 1) Tue, Nov 24 3:00 PM with Maya")
    with session_scope(db_url) as session:
        starts = [o["start"] for o in session.get(ConversationState, spa["patient_id"]).pending["options"]]
    for start in starts:
        local = datetime.fromisoformat(start) - timedelta(hours=6)
        assert local.weekday() < 5 and local.hour >= 15


def test_a_bare_yes_keeps_the_standing_offer(settings, twilio, clock, spa, db_url):
    text_in("can I come in tuesday morning?")
    text_in("yes")
    first, again = sent_to(twilio, PATIENT)
    assert TUESDAY_OFFER in first
    assert again == (
        f"Those times are still open, Ana: {TUESDAY_OFFER}. Reply 1, 2 or 3 to pick one, "
        "or tell us a day that suits you better."
    )
    assert _requested(db_url) == []


def test_turning_all_down_asks_again_and_then_applies_the_new_constraint(settings, twilio, clock, spa, db_url):
    text_in("can I come in tuesday morning?")
    text_in("none of those work")
    assert sent_to(twilio, PATIENT)[-1] == (
        "No problem, Ana. What day or time would suit you better? For example: weekdays after 5, "
        "or next Tuesday morning."
    )
    text_in("tuesday after 10 then")
    offer = sent_to(twilio, PATIENT)[-1]
    assert offer.startswith("Hi Ana! Open times for your next Lip filler: 1) Tue, Nov 24 1")
    assert "Nov 24 11:00 AM" not in offer and "9:00 AM" not in offer  # never the times turned down


def test_a_change_of_mind_while_the_request_is_pending_moves_the_request(settings, twilio, clock, spa, db_url):
    text_in("can I come in tuesday morning?")
    text_in("1")
    [first] = _requested(db_url)
    text_in("actually can I do the 11am instead?")
    [moved] = _requested(db_url)
    assert moved.id == first.id and moved.start_at.replace(tzinfo=UTC) == chicago_utc(2026, 11, 24, 11)
    assert sent_to(twilio, PATIENT)[-1].startswith("Thanks, Ana! We've asked for Tuesday, Nov 24 at 11:00 AM")
    with session_scope(db_url) as session:
        [item] = session.exec(select(Escalation)).all()
        assert item.reason == "booking_request" and item.status == "open"
        assert item.note.startswith("Moved by text from Tue, Nov 24 9:00 AM to Tue, Nov 24 11:00 AM with Maya")
    text_in("ok")
    assert sent_to(twilio, PATIENT)[-1] == (
        "Your request for Tuesday, Nov 24 at 11:00 AM with Maya Chen, NP is with our front desk, Ana; "
        "they'll text you today to confirm it."
    )  # "ok" to the request moves nothing and books nothing
    [still] = _requested(db_url)
    assert still.start_at == moved.start_at


@pytest.mark.parametrize(
    "language, wish, yes, reply",
    [
        (
            "en",
            "can I come in tuesday morning?",
            "sounds good",
            "Your request for Tuesday, Dec 1 at 9:00 AM with Maya Chen, NP is with our front desk, Ana; "
            "they'll text you today to confirm it.",
        ),
        (
            "es",
            "¿puedo ir el martes por la mañana?",
            "sí",
            "Tu pedido de cita el martes 1 de diciembre a las 09:00 está en recepción; te escribirán hoy para "
            "confirmarlo.",
        ),
    ],
)
def test_a_bare_yes_once_the_request_is_with_the_front_desk_says_so_and_books_nothing(
    settings, twilio, clock, spa, db_url, language, wish, yes, reply
):
    with session_scope(db_url) as session:
        patient = session.get(Patient, spa["patient_id"])
        patient.language, patient.marketing_sms = language, False  # no add-on offer for the yes to answer
    text_in(wish)
    text_in("3")
    [request] = _requested(db_url)
    text_in(yes)
    assert sent_to(twilio, PATIENT)[-1] == reply
    clock.advance(hours=50)  # the offer has expired; the request is still with the front desk
    text_in(yes)
    texts = sent_to(twilio, PATIENT)
    assert texts[-1] == reply and len(texts) == 4  # never new times
    assert [(r.id, r.start_at) for r in _requested(db_url)] == [(request.id, request.start_at)]
    with session_scope(db_url) as session:
        [item] = session.exec(select(Escalation)).all()
        assert (item.reason, item.status) == ("booking_request", "open")
        assert session.exec(select(Appointment).where(Appointment.source == "bot")).all()[0].id == request.id


@pytest.mark.parametrize(
    "language, reply",
    [
        (
            "en",
            "Your request for Tuesday, Dec 1 at 9:00 AM with Maya Chen, NP is with our front desk, Ana; "
            "they'll text you to confirm it after 9:00 AM tomorrow.",
        ),
        (
            "es",
            "Tu pedido de cita el martes 1 de diciembre a las 09:00 está en recepción; te confirmarán después de las 9:00 de mañana.",
        ),
    ],
)
def test_a_yes_to_a_pending_request_after_hours_says_when_the_front_desk_opens(
    settings, twilio, clock, spa, db_url, language, reply
):
    with session_scope(db_url) as session:
        patient = session.get(Patient, spa["patient_id"])
        patient.language, patient.marketing_sms = language, False
    text_in("can I come in tuesday morning?")
    text_in("3")
    clock.advance(hours=7, minutes=30)  # 5:30 PM in Austin: the providers' hours end at 5
    text_in("ok" if language == "en" else "ok gracias")
    assert sent_to(twilio, PATIENT)[-1] == reply
    assert len(_requested(db_url)) == 1


def test_an_offer_expires_after_the_set_time(settings, twilio, clock, spa, db_url):
    runtime.configure(runtime.settings().with_(offer_valid_hours=2), clock)
    text_in("can I come in tuesday morning?")
    clock.advance(hours=3)
    text_in("2")
    assert _requested(db_url) == []
    assert sent_to(twilio, PATIENT)[-1].startswith("Hi Ana! Open times")


def test_direct_mode_books_the_pick_at_once(settings, twilio, clock, spa, db_url):
    runtime.configure(runtime.settings().with_(booking_mode="direct"), clock)
    text_in("can I come in tuesday morning?")
    text_in("3")
    assert sent_to(twilio, PATIENT)[-1] == (
        "You're booked, Ana: Tuesday, Dec 1 at 9:00 AM with Maya Chen, NP for your Lip filler. "
        "Need to change it? Just reply here or call (512) 555-0199. Want to add touch-up to this visit? "
        "Reply ADD. - Glow Test Spa. Reply STOP to opt out."
    )
    with session_scope(db_url) as session:
        visit = session.exec(select(Appointment).where(Appointment.source == "bot")).one()
        assert visit.status == "booked"
        assert session.exec(select(Touch.step).where(Touch.appointment_id == visit.id)).all()  # reminders planned
        assert session.exec(select(Escalation.reason)).one() == "booked_by_text"


def test_spanish_preferences_and_picks(settings, twilio, clock, spa, db_url):
    with session_scope(db_url) as session:
        session.get(Patient, spa["patient_id"]).language = "es"
    text_in("tienes algo entre semana despues de las 4?")
    offer = sent_to(twilio, PATIENT)[-1]
    assert offer.startswith("¡Hola Ana! Horarios para tu proxima cita de Lip filler: 1) mar 24 nov 16:00 con Maya")
    text_in("la de las 16:00 del martes")
    [request] = _requested(db_url)
    assert request.start_at.replace(tzinfo=UTC) == chicago_utc(2026, 11, 24, 16)


# ------------------------------------------------------------- the parsers


@pytest.mark.parametrize(
    "body, expect",
    [
        ("weekdays after 5", lambda t: t.weekday() < 5 and t.time() >= time(17)),
        ("weekends only", lambda t: t.weekday() >= 5),
        ("before noon", lambda t: t.time() < time(12)),
        ("antes de las 11", lambda t: t.time() < time(11)),
        ("the week of Dec 7", lambda t: date(2026, 12, 7) <= t.date() <= date(2026, 12, 13)),
        ("la semana del 7 de diciembre", lambda t: date(2026, 12, 7) <= t.date() <= date(2026, 12, 13)),
        ("in two weeks", lambda t: date(2026, 12, 7) <= t.date() <= date(2026, 12, 13)),
        ("this week", lambda t: t.date() <= date(2026, 11, 29)),
        ("por las tardes", lambda t: 12 <= t.hour < 19),
        ("evenings", lambda t: t.hour >= 16),
        ("any tuesday", lambda t: t.weekday() == 1),
        ("fin de semana por la manana", lambda t: t.weekday() >= 5 and t.hour < 12),
    ],
)
def test_preferences_from_the_words_sent(body, expect):
    prefs = slots.Preferences.parse(None, None, date(2026, 11, 23), body=body)
    start = datetime(2026, 11, 23, 0, 0)
    candidates = [start + timedelta(minutes=30 * i) for i in range(2 * 24 * 28)]
    accepted = [t for t in candidates if prefs.accepts(t)]
    assert accepted and all(expect(t) for t in accepted)
    assert len(accepted) < len(candidates)


OPTIONS = [
    {"start": chicago_utc(2026, 11, 24, 9).isoformat()},
    {"start": chicago_utc(2026, 11, 24, 15).isoformat()},
    {"start": chicago_utc(2026, 11, 26, 15).isoformat()},
]


@pytest.mark.parametrize(
    "body, expect",
    [
        ("2", 2),
        ("option 3 please", 3),
        ("the first one", 1),
        ("el tercero", 3),
        ("the last one", 3),
        ("the 9am", 1),
        ("thursday", 3),
        ("thursday at 3", 3),
        ("tuesday 3pm", 2),
        ("the 3pm", None),  # two of them are at 3 PM
        ("tuesday", None),
        ("can we do 5pm instead", None),
        ("I have 2 kids so mornings", None),
        ("la de las 9", 1),  # "las 9" is a time of day, a bare "9" is not
        ("at 9 works", 1),
        ("el jueves a las 3", 3),
    ],
)
def test_which_offered_time_a_reply_names(body, expect):
    assert picks.pick(body, OPTIONS, "America/Chicago") == expect


@pytest.mark.parametrize(
    "body, expect",
    [
        ("I need to cancel my appointment", "cancel"),
        ("cancelar mi cita por favor", "cancel"),
        ("can't make it thursday", "cancel"),
        ("can I reschedule?", "move"),
        ("necesito cambiar mi cita", "move"),
        ("can we move it to friday", "move"),
        ("what time is my appointment", None),
    ],
)
def test_cancel_or_move(body, expect):
    assert picks.cancel_or_move(body) == expect


# ------------------------------------------------------------ opted out


def test_an_opted_out_patients_pick_books_nothing_but_an_emergency_still_escalates(
    settings,
    twilio,
    clock,
    spa,
    db_url,
):
    text_in("can I come in tuesday morning?")
    text_in("STOP")
    text_in("2")
    assert _requested(db_url) == []
    with session_scope(db_url) as session:
        assert session.exec(select(Escalation.reason)).all() == ["needs_reply:opted_out_wrote"]
        assert session.exec(select(Touch.status).where(Touch.purpose == "rebook")).all() == ["suppressed"]
    text_in("my lip is turning white and blotchy and it hurts a lot")
    with session_scope(db_url) as session:
        assert "emergency" in session.exec(select(Escalation.urgency)).all()
    assert not any("asked for" in body for body in sent_to(twilio, PATIENT))


@pytest.mark.parametrize(
    "language, wish, reply, asked",
    [
        (
            "en",
            "can I come in tuesday morning?",
            "the 9am",
            "Which one, Ana? 1) Tue, Nov 24 9:00 AM with Maya Chen, NP; 3) Tue, Dec 1 9:00 AM with Maya Chen, NP. "
            "Reply with its number.",
        ),
        (
            "es",
            "¿puedo ir el martes por la mañana?",
            "la de las 9",
            "¿Cuál de ellas, Ana? 1) mar 24 nov 09:00 con Maya Chen, NP; 3) mar 1 dic 09:00 con Maya Chen, NP. "
            "Responde con su número.",
        ),
    ],
)
def test_a_time_of_day_two_offered_times_share_asks_which_and_keeps_the_offer(
    settings, twilio, clock, spa, db_url, language, wish, reply, asked
):
    with session_scope(db_url) as session:
        session.get(Patient, spa["patient_id"]).language = language
    text_in(wish)
    text_in(reply)
    assert sent_to(twilio, PATIENT)[-1] == asked  # not new times on other days, which would forget "tuesday"
    assert _requested(db_url) == []
    text_in("3")
    [request] = _requested(db_url)
    assert request.start_at.replace(tzinfo=UTC) == chicago_utc(2026, 12, 1, 9)


@pytest.mark.parametrize("pick", ["the second one", "la segunda"])
def test_a_pick_with_no_times_on_offer_is_no_complaint(settings, twilio, clock, spa, db_url, pick):
    text_in("can I come in on sunday?")  # nobody works Sundays: "someone will text you back with times"
    [holding] = sent_to(twilio, PATIENT)
    assert holding.startswith("Thanks, Ana! Someone from our team will text you back shortly with times")
    text_in(pick)
    assert sent_to(twilio, PATIENT) == [holding]  # not "we're sorry to hear that", no manager told
    with session_scope(db_url) as session:
        assert session.exec(select(Escalation.reason)).all() == ["needs_reply:rebook_request"]
    assert _requested(db_url) == []
