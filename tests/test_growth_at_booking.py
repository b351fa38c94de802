"""The at-booking add-on inside the booking reply, on the virtual clock, through the signed webhook, the real
worker, Redis, the database and the fake Twilio: it goes only when a marketing text may go now (consent,
suppression, the kill switch, quiet hours, caps), within two segments; a yes or ADD adds it to the request
or the visit, and the offer's attribution says sent and accepted. No separate text ever follows."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from bot import runtime
from bot.growth import matrix
from bot.growth.attribution import refresh, results
from bot.touches.plans import OFFERS
from store.db import session_scope
from store.models import Appointment, Escalation, Message, Offer, Patient, Practice, Touch
from tests.helpers import PATIENT, dispatch_all, sent_to, text_in

TOUCH_UP_DECLINED = "Touch-up"
"""Ana said no to the free touch-up last month, so the add-on the matrix offers for filler is microneedling."""


@pytest.fixture
def ana(spa, db_url, clock):
    """The booking practice's Ana, who declined a touch-up offer 30 days ago (so the add-on has a price)."""
    with session_scope(db_url) as session:
        session.add(
            Offer(
                practice_id=spa["practice_id"],
                patient_id=spa["patient_id"],
                moment="pre_visit",
                primary="filler",
                kind="add_on",
                item=TOUCH_UP_DECLINED,
                matrix_version=0,
                status="declined",
                sent_at=clock.now() - timedelta(days=31),
                declined_at=clock.now() - timedelta(days=30),
                created_at=clock.now() - timedelta(days=31),
            )
        )
    return spa


def _book(twilio, when: str = "tuesday morning") -> str:
    text_in(f"can I come in {when}?")
    assert "Reply 1, 2 or 3" in sent_to(twilio, PATIENT)[-1]
    text_in("1")
    return sent_to(twilio, PATIENT)[-1]


def _at_booking(db_url) -> tuple[Offer, Touch | None]:
    with session_scope(db_url) as session:
        offer = session.exec(select(Offer).where(Offer.moment == "at_booking")).one()
        touch = session.get(Touch, offer.touch_id) if offer.touch_id else None
        session.expunge(offer)
        if touch is not None:
            session.expunge(touch)
        return offer, touch


def _no_later_text(twilio, settings, clock) -> None:
    """Hours later the worker has nothing to send: the add-on was the reply's or nobody's."""
    before = len(sent_to(twilio, PATIENT))
    clock.advance(hours=2)
    dispatch_all(settings, rounds=2)
    assert len(sent_to(twilio, PATIENT)) == before


def _funnel(db_url, practice_id, now):
    with session_scope(db_url) as session:
        refresh(session, practice_id, now)
        return results(session, practice_id, matrix.current(session, practice_id)).by_moment["at_booking"]


def test_the_request_reply_carries_one_add_on_and_add_puts_it_on_the_request(ana, db_url, clock, twilio, settings):
    reply = _book(twilio)
    assert reply == (
        "Thanks, Ana! We've asked for Tuesday, Nov 24 at 9:00 AM with Maya Chen, NP for your Lip filler. "
        "The front desk will text you shortly to confirm. Want to add microneedling for $350 to this visit? "
        "Reply ADD. - Glow Test Spa. Reply STOP to opt out."
    )
    with session_scope(db_url) as session:
        message = session.exec(select(Message).where(Message.body == reply)).one()
        assert message.segments == 2
    offer, touch = _at_booking(db_url)
    assert (offer.status, offer.item, offer.price, offer.sent_at is not None) == (
        "sent",
        "Microneedling",
        Decimal("350.00"),
        True,
    )
    assert touch is not None and (touch.plan, touch.status, touch.marketing, touch.message_id) == (
        OFFERS,
        "sent",
        True,
        message.id,
    )
    _no_later_text(twilio, settings, clock)
    text_in("ADD")
    assert sent_to(twilio, PATIENT)[-1] == (
        "Great, Ana! We've asked the front desk to add microneedling to your visit on Tuesday, Nov 24 at 9:00 AM; "
        "they'll confirm it. See you then!"
    )
    with session_scope(db_url) as session:
        request = session.exec(select(Appointment).where(Appointment.status == "requested")).one()
        assert request.add_ons == [{"item": "Microneedling", "price": "350.00", "offer_id": offer.id}]
        item = session.exec(select(Escalation).where(Escalation.reason == "add_on_requested")).one()
        assert item.note.startswith("Add-on said yes to by text: Microneedling ($350.00)")
    funnel = _funnel(db_url, ana["practice_id"], clock.now())
    assert (funnel.sent, funnel.replied, funnel.accepted, funnel.booked, funnel.held, funnel.revenue) == (
        1,
        1,
        1,
        1,
        0,
        Decimal("350.00"),
    )


@pytest.mark.parametrize("yes", ["sí", "si", "SÍ", "Agrégalo"])
def test_direct_mode_in_spanish_books_the_visit_and_a_si_adds_the_add_on(ana, db_url, clock, twilio, settings, yes):
    runtime.configure(runtime.settings().with_(booking_mode="direct"), clock)
    with session_scope(db_url) as session:
        session.get_one(Patient, ana["patient_id"]).language = "es"
    text_in("tienes algo el martes por la manana?")
    text_in("1")
    reply = sent_to(twilio, PATIENT)[-1]
    assert reply.startswith("Ana, tu cita es ")
    assert reply.endswith(
        "¿Agregamos microneedling por $350 a esta cita? Responde AGREGAR o SI. - Glow Test Spa. "
        "Responde STOP para salir."
    )
    text_in(yes)
    assert sent_to(twilio, PATIENT)[-1].startswith("¡Listo, Ana! Agregamos microneedling a tu cita del ")
    with session_scope(db_url) as session:
        visit = session.exec(select(Appointment).where(Appointment.source == "bot")).one()
        assert visit.status == "booked" and [a["item"] for a in visit.add_ons] == ["Microneedling"]
        assert session.exec(select(Escalation).where(Escalation.reason == "add_on_requested")).first() is None
    offer, _touch = _at_booking(db_url)
    assert (offer.status, offer.revenue, offer.booked_appointment_id) == ("booked", Decimal("350.00"), visit.id)


def _plain_reply(reply: str) -> None:
    assert reply == (
        "Thanks, Ana! We've asked for Tuesday, Nov 24 at 9:00 AM with Maya Chen, NP for your Lip filler. "
        "The front desk will text you shortly to confirm."
    )


def test_without_marketing_consent_the_reply_is_the_plain_confirmation(ana, db_url, clock, twilio, settings):
    with session_scope(db_url) as session:
        session.get_one(Patient, ana["patient_id"]).marketing_sms = False
    _plain_reply(_book(twilio))
    offer, touch = _at_booking(db_url)
    assert offer.status == "held" and offer.sent_at is None
    assert touch is not None and touch.status == "skipped" and touch.reason.startswith("no_marketing_consent")
    _no_later_text(twilio, settings, clock)
    text_in("yes")  # no offer reached her: the yes is about the request, which stands
    assert _at_booking(db_url)[0].status == "held"
    funnel = _funnel(db_url, ana["practice_id"], clock.now())
    assert (funnel.sent, funnel.held) == (0, 1)


def test_after_marketing_hours_the_reply_goes_without_the_add_on(ana, db_url, clock, twilio, settings):
    clock.advance(hours=10, minutes=30)  # Monday 20:30 in Austin: past the practice's 20:00 for marketing
    reply = _book(twilio, "wednesday morning")
    assert "asked for Wednesday, Nov 25 at 9:00 AM" in reply and "Want to add" not in reply
    _offer, touch = _at_booking(db_url)
    assert touch is not None and touch.reason.startswith("quiet_hours: deferred from 2026-11-23 20:30 CST")
    _no_later_text(twilio, settings, clock)  # and nothing the next morning either
    clock.advance(hours=12)
    dispatch_all(settings)
    assert not any("microneedling" in body for body in sent_to(twilio, PATIENT))


def test_a_marketing_text_today_holds_the_add_on_by_the_daily_cap(ana, db_url, clock, twilio, settings):
    with session_scope(db_url) as session:
        session.add(
            Touch(
                practice_id=ana["practice_id"],
                patient_id=ana["patient_id"],
                plan="birthday",
                step="offer",
                purpose="birthday",
                marketing=True,
                due_at=clock.now() - timedelta(hours=3),
                status="sent",
                sent_at=clock.now() - timedelta(hours=3),
            )
        )
    _plain_reply(_book(twilio))
    _offer, touch = _at_booking(db_url)
    assert touch is not None and touch.reason.startswith("frequency_cap (marketing 1/24h)")


def test_a_care_text_an_hour_ago_does_not_hold_it_the_offer_adds_no_text(ana, db_url, clock, twilio, settings):
    with session_scope(db_url) as session:
        session.add(
            Touch(
                practice_id=ana["practice_id"],
                patient_id=ana["patient_id"],
                plan="filler",
                step="rebook_lips_early",
                purpose="rebook",
                marketing=False,
                due_at=clock.now() - timedelta(hours=1),
                status="sent",
                sent_at=clock.now() - timedelta(hours=1),
            )
        )
    assert "Want to add microneedling for $350" in _book(twilio)


def test_a_recent_complaint_holds_the_add_on(ana, db_url, clock, twilio, settings):
    with session_scope(db_url) as session:
        session.add(
            Message(
                practice_id=ana["practice_id"],
                patient_id=ana["patient_id"],
                direction="in",
                from_number=PATIENT,
                to_number="+15125550100",
                body="I was unhappy with the wait last time",
                decision={"intent": "negative_feedback", "urgency": "routine", "handler": "feedback.handle"},
                created_at=clock.now() - timedelta(days=3),
            )
        )
    _plain_reply(_book(twilio))
    assert _at_booking(db_url)[1].reason.startswith("complaint_hold")


def test_the_kill_switch_holds_the_add_on(ana, db_url, clock, twilio, settings):
    text_in("can I come in tuesday morning?")
    with session_scope(db_url) as session:
        session.get_one(Practice, ana["practice_id"]).paused_at = clock.now()
    text_in("1")
    offer, touch = _at_booking(db_url)
    assert offer.status == "held" and touch is not None and touch.reason.startswith("bot_paused")
    assert not any("Want to add" in body for body in sent_to(twilio, PATIENT))


def test_a_reply_that_would_pass_two_segments_goes_without_the_add_on(ana, db_url, clock, twilio, settings):
    name = "Glow Aesthetics, Laser, Skin & Wellness Med Spa of South Congress Avenue, Austin, Texas (Downtown)"
    with session_scope(db_url) as session:
        session.get_one(Practice, ana["practice_id"]).name = name
    _plain_reply(_book(twilio))  # 148 characters, and the offer's sentence with this name is 163 more
    assert _at_booking(db_url)[1].reason.startswith("too_long: over 2 segments")


def test_an_ok_to_a_moved_request_is_not_a_yes_to_the_add_on_but_add_still_is(ana, db_url, clock, twilio, settings):
    _book(twilio)
    text_in("actually can I do the 11am instead?")
    assert sent_to(twilio, PATIENT)[-1].startswith("Thanks, Ana! We've asked for Tuesday, Nov 24 at 11:00 AM")
    text_in("ok")
    assert _at_booking(db_url)[0].status == "sent"
    text_in("add it please")
    assert "add microneedling to your visit on Tuesday, Nov 24 at 11:00 AM" in sent_to(twilio, PATIENT)[-1]
    assert _at_booking(db_url)[0].accepted_at is not None


def test_a_no_is_recorded_and_the_add_on_is_not_offered_at_the_next_booking(ana, db_url, clock, twilio, settings):
    _book(twilio)
    text_in("no thanks")
    assert sent_to(twilio, PATIENT)[-1] == "No problem, Ana. Thanks for letting us know!"
    offer, _ = _at_booking(db_url)
    assert offer.declined_at is not None
    funnel = _funnel(db_url, ana["practice_id"], clock.now())
    assert (funnel.sent, funnel.declined, funnel.accepted) == (1, 1, 0)
