"""Offer moments on a virtual clock: each fires for the right patients only, goes through the same sending
rules as every touch, and a yes to an add-on changes the visit (or the front desk's request)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.growth.moments import plan_offers
from bot.touches.plans import OFFERS
from store.db import session_scope
from store.models import Appointment, Escalation, Offer, Patient, Referral, Service, Touch
from tests import factories
from tests.helpers import PATIENT, dispatch_all, sent_to, text_in

BOTOX = {"code": "BOTOX-FOREHEAD", "name": "Botox forehead", "category": "neuromodulator", "area": "forehead"}


@pytest.fixture
def spa(settings, clock, db_url):
    """Glow with Botox, filler, HydraFacial and a consultation on the menu, a provider, and Ana (marketing
    consent, Texas number) who has had nothing yet."""
    with session_scope(db_url) as session:
        practice = factories.practice(session, facts={"sender_name": "Maya"})
        provider = factories.provider(session, practice.id)
        services = {
            "botox": factories.service(session, practice.id, duration_min=30, price=300.0, **BOTOX),
            "filler": factories.service(session, practice.id),
            "hydra": factories.service(
                session, practice.id, code="HYDRAFACIAL", name="HydraFacial", category="facial", area=None, price=225.0
            ),
            "consult": factories.service(
                session, practice.id, code="CONSULT", name="Consultation", category="consultation", area=None
            ),
        }
        ana = factories.patient(session, practice.id)
        return {
            "practice_id": practice.id,
            "provider_id": provider.id,
            "patient_id": ana.id,
            **{k: s.id for k, s in services.items()},
        }


def _visit(db_url, spa, service: str, start, status="completed", patient_id=None, **fields) -> int:
    with session_scope(db_url) as session:
        patient = session.get_one(Patient, patient_id or spa["patient_id"])
        return factories.appointment(
            session,
            patient,
            session.get_one(Service, spa[service]),
            start,
            provider_id=spa["provider_id"],
            location_id=1,
            created_at=fields.pop("created_at", start),
            status=status,
            **fields,
        ).id


def _plan(db_url, clock, **kw) -> list[tuple[str, str, str]]:
    with session_scope(db_url) as session:
        made = plan_offers(session, clock.now(), **kw)
        return [(o.moment, o.item, o.kind) for o in made]


def _offer_touches(db_url) -> list[Touch]:
    with session_scope(db_url) as session:
        rows = session.exec(select(Touch).where(Touch.plan == OFFERS).order_by(Touch.id)).all()
        for row in rows:
            session.expunge(row)
        return rows


def test_pre_visit_add_on_goes_36_hours_before_a_booked_visit_once(spa, db_url, clock):
    _visit(db_url, spa, "botox", clock.now() - timedelta(days=100))
    visit = _visit(db_url, spa, "botox", clock.now() + timedelta(days=4), status="booked")
    assert _plan(db_url, clock) == []  # four days ahead: not yet
    clock.advance(days=2, hours=12)  # the visit is 36 h away
    assert _plan(db_url, clock) == [("pre_visit", "Brow lift", "add_on")]
    assert _plan(db_url, clock) == []  # once per visit
    [touch] = _offer_touches(db_url)
    assert touch.appointment_id == visit and touch.marketing and touch.step in ("pre_visit", "pre_visit_b")


def test_a_yes_to_the_pre_visit_add_on_adds_it_to_the_visit_and_tells_the_patient(spa, db_url, clock, twilio, settings):
    _visit(db_url, spa, "botox", clock.now() - timedelta(days=100))
    visit = _visit(db_url, spa, "botox", clock.now() + timedelta(hours=36), status="booked")
    assert _plan(db_url, clock) == [("pre_visit", "Brow lift", "add_on")]
    dispatch_all(settings)
    offer_text = sent_to(twilio, PATIENT)[-1]
    assert "brow lift" in offer_text and "Reply STOP" in offer_text
    text_in("Yes please!")
    reply = sent_to(twilio, PATIENT)[-1]
    assert "front desk to add brow lift to your visit on" in reply
    with session_scope(db_url) as session:
        appointment = session.get_one(Appointment, visit)
        assert [a["item"] for a in appointment.add_ons] == ["Brow lift"]
        offer = session.exec(select(Offer)).one()
        assert offer.status == "booked" and offer.accepted_at is not None and str(offer.revenue) == "100.00"
        item = session.exec(select(Escalation).where(Escalation.reason == "add_on_requested")).one()
        assert "Brow lift ($100.00)" in item.note
    text_in("yes")  # answered already: not read as a second yes to the same offer
    with session_scope(db_url) as session:
        assert len(session.get_one(Appointment, visit).add_ons) == 1


def test_direct_booking_adds_the_add_on_without_a_front_desk_request(spa, db_url, clock, twilio, settings):
    from bot import runtime

    runtime.configure(runtime.settings().with_(booking_mode="direct"), clock)
    _visit(db_url, spa, "botox", clock.now() - timedelta(days=100))
    visit = _visit(db_url, spa, "botox", clock.now() + timedelta(hours=36), status="booked")
    _plan(db_url, clock)
    dispatch_all(runtime.settings())
    text_in("yes")
    assert "We've added brow lift to your visit on" in sent_to(twilio, PATIENT)[-1]
    with session_scope(db_url) as session:
        assert session.get_one(Appointment, visit).add_ons[0]["item"] == "Brow lift"
        assert session.exec(select(Escalation)).first() is None


def test_a_no_is_recorded_and_the_add_on_is_not_offered_again(spa, db_url, clock, twilio, settings):
    _visit(db_url, spa, "botox", clock.now() - timedelta(days=100))
    _visit(db_url, spa, "botox", clock.now() + timedelta(hours=36), status="booked")
    _plan(db_url, clock)
    dispatch_all(settings)
    text_in("no thanks")
    assert "No problem" in sent_to(twilio, PATIENT)[-1]
    later = _visit(db_url, spa, "botox", clock.now() + timedelta(days=20, hours=12), status="booked")
    clock.advance(days=19)
    assert _plan(db_url, clock) == [("pre_visit", "Lip flip", "add_on")]  # the declined brow lift is skipped
    with session_scope(db_url) as session:
        assert session.exec(select(Offer).where(Offer.item == "Brow lift")).one().status == "declined"
        assert session.exec(select(Offer).where(Offer.appointment_id == later)).one().item == "Lip flip"


def test_offers_obey_consent_quiet_hours_and_the_kill_switch(spa, db_url, clock, twilio, settings):
    with session_scope(db_url) as session:
        session.get_one(Patient, spa["patient_id"]).marketing_sms = False
    _visit(db_url, spa, "botox", clock.now() - timedelta(days=100))
    _visit(db_url, spa, "botox", clock.now() + timedelta(hours=36), status="booked")
    _plan(db_url, clock)
    dispatch_all(settings)
    [touch] = _offer_touches(db_url)
    assert (touch.status, touch.reason) == ("skipped", "no_marketing_consent")
    assert sent_to(twilio, PATIENT) == []
    with session_scope(db_url) as session:
        patient = session.get_one(Patient, spa["patient_id"])
        patient.marketing_sms = True
        practice = session.get_one(factories.Practice, spa["practice_id"])
        practice.paused_at = clock.now()
        touch_row = session.get_one(Touch, touch.id)
        touch_row.status, touch_row.reason = "scheduled", None
    dispatch_all(settings)
    [held] = _offer_touches(db_url)
    assert held.status == "scheduled" and held.reason.startswith("bot_paused")
    assert sent_to(twilio, PATIENT) == []


def test_pre_visit_offer_too_close_to_the_visit_is_skipped(spa, db_url, clock, settings, twilio):
    _visit(db_url, spa, "botox", clock.now() - timedelta(days=100))
    _visit(db_url, spa, "botox", clock.now() + timedelta(hours=36), status="booked")
    _plan(db_url, clock)
    clock.advance(hours=13)  # 23 h before the visit: the window has passed
    dispatch_all(settings)
    [touch] = _offer_touches(db_url)
    assert touch.status == "skipped" and touch.reason.startswith("outside_window")


def test_history_offer_never_introduces_what_the_patient_already_had(spa, db_url, clock):
    # Ana had a consultation long ago: Botox's first follow-up (skincare consult) is not offered to her.
    _visit(db_url, spa, "consult", clock.now() - timedelta(days=300))
    _visit(db_url, spa, "botox", clock.now() - timedelta(days=20))
    with session_scope(db_url) as session:
        ben = factories.patient(session, spa["practice_id"], first_name="Ben", phone="+15125550177")
        ben_id = ben.id
    _visit(db_url, spa, "botox", clock.now() - timedelta(days=20), patient_id=ben_id)
    _visit(db_url, spa, "botox", clock.now() - timedelta(days=40), patient_id=ben_id)
    made = _plan(db_url, clock, horizon=timedelta(days=2))
    assert sorted(made) == [("history", "Filler evaluation", "follow_up"), ("history", "Skincare consult", "follow_up")]
    with session_scope(db_url) as session:
        by_patient = {o.patient_id: o.item for o in session.exec(select(Offer))}
    assert by_patient == {spa["patient_id"]: "Filler evaluation", ben_id: "Skincare consult"}


def test_history_offer_skips_a_patient_who_has_had_every_follow_up(spa, db_url, clock):
    _visit(db_url, spa, "consult", clock.now() - timedelta(days=300))
    _visit(db_url, spa, "filler", clock.now() - timedelta(days=200))
    _visit(db_url, spa, "botox", clock.now() - timedelta(days=20))
    assert _plan(db_url, clock, horizon=timedelta(days=2)) == []


def test_visit_summary_offer_replaces_the_thank_you_only_with_marketing_consent(spa, db_url, clock):
    from bot.touches.planner import plan_appointment

    visit = _visit(db_url, spa, "filler", clock.now() - timedelta(hours=1))
    with session_scope(db_url) as session:
        plan_appointment(session, visit, clock.now())
    assert _plan(db_url, clock, horizon=timedelta(hours=3)) == [("visit_summary", "Hyaluronic serum", "retail")]
    with session_scope(db_url) as session:
        thanks = session.exec(select(Touch).where(Touch.plan == "everyone", Touch.step == "thanks")).one()
        assert (thanks.status, thanks.reason) == ("suppressed", "replaced_by_offer: visit_summary")


def test_rebooking_the_same_treatment_gets_the_package_and_a_first_booking_does_not(spa, db_url, clock):
    _visit(db_url, spa, "botox", clock.now() - timedelta(days=90))
    _visit(db_url, spa, "botox", clock.now() + timedelta(days=10), status="booked", created_at=clock.now())
    _visit(db_url, spa, "hydra", clock.now() + timedelta(days=12), status="booked", created_at=clock.now())
    made = _plan(db_url, clock, horizon=timedelta(hours=3))
    assert made == [("rebooking", "Botox membership (a visit every quarter, 10% off)", "package")]


def test_a_referrer_whose_friend_booked_gets_the_vip_invitation(spa, db_url, clock):
    visit = _visit(db_url, spa, "botox", clock.now() - timedelta(days=60))
    with session_scope(db_url) as session:
        session.add(
            Referral(
                practice_id=spa["practice_id"],
                referrer_id=spa["patient_id"],
                code="GA-ANA7KQ2",
                status="booked",
                booked_at=clock.now(),
            )
        )
    made = _plan(db_url, clock, horizon=timedelta(days=2))
    assert made == [("referral", "VIP early access to new openings and offers", "vip")]
    [touch] = _offer_touches(db_url)
    assert touch.appointment_id == visit


def test_reactivation_is_differentiated_by_segment(spa, db_url, clock):
    # Vera: three Botox visits (VIP), the last 140 days ago: expected back at 90, premium offer at 90 + 45.
    # Nina: one Botox visit 120 days ago (new): first-return offer at 90 + 30. Lou: VIP but booked ahead.
    with session_scope(db_url) as session:
        vera = factories.patient(session, spa["practice_id"], first_name="Vera", phone="+15125550171").id
        nina = factories.patient(session, spa["practice_id"], first_name="Nina", phone="+15125550172").id
        lou = factories.patient(session, spa["practice_id"], first_name="Lou", phone="+15125550173").id
    for days in (135, 260, 380):
        _visit(db_url, spa, "botox", clock.now() - timedelta(days=days), patient_id=vera)
        _visit(db_url, spa, "botox", clock.now() - timedelta(days=days), patient_id=lou)
    _visit(db_url, spa, "botox", clock.now() - timedelta(days=120), patient_id=nina)
    _visit(db_url, spa, "botox", clock.now() + timedelta(days=5), status="booked", patient_id=lou)
    made = _plan(db_url, clock, horizon=timedelta(days=1))
    with session_scope(db_url) as session:
        got = {o.patient_id: (o.moment, o.item, o.segment) for o in session.exec(select(Offer))}
    assert got == {
        vera: ("reactivation_vip", "a complimentary add-on of your choice", "vip"),
        nina: ("reactivation_new", "$50 off your second visit", "new"),
    }
    assert len(made) == 2


def test_praise_for_a_results_check_in_brings_the_next_step_offer(spa, db_url, clock, twilio, settings):
    visit = _visit(db_url, spa, "filler", clock.now() - timedelta(days=14))
    with session_scope(db_url) as session:
        session.add(
            Touch(
                practice_id=spa["practice_id"],
                patient_id=spa["patient_id"],
                appointment_id=visit,
                plan="filler",
                step="results",
                purpose="results",
                due_at=clock.now() - timedelta(hours=2),
                status="sent",
                sent_at=clock.now() - timedelta(hours=2),
            )
        )
    text_in("I love my lips, they look amazing!")
    with session_scope(db_url) as session:
        offer = session.exec(select(Offer)).one()
        assert (offer.moment, offer.item) == ("after_results", "Botox refresh")
        touch = session.get_one(Touch, offer.touch_id)
        assert touch.due_at.replace(tzinfo=None) == (clock.now() + timedelta(hours=1)).replace(tzinfo=None)


def test_praise_without_a_results_check_in_brings_no_offer(spa, db_url, clock, twilio, settings):
    _visit(db_url, spa, "filler", clock.now() - timedelta(days=14))
    text_in("I love my lips, they look amazing!")
    with session_scope(db_url) as session:
        assert session.exec(select(Offer)).first() is None


def test_a_changed_goal_reaches_staff_and_gets_the_matching_offer(spa, db_url, clock, twilio, settings):
    _visit(db_url, spa, "botox", clock.now() - timedelta(days=14))
    text_in("My goal has changed, now I just want to maintain my results")
    assert "noted your new goal" in sent_to(twilio, PATIENT)[-1]
    with session_scope(db_url) as session:
        item = session.exec(select(Escalation).where(Escalation.reason == "goal_changed")).one()
        assert "to maintenance" in item.note
        offer = session.exec(select(Offer)).one()
        assert (offer.moment, offer.kind) == ("goal_change", "goal") and offer.item.startswith("Maintenance")
    clock.advance(hours=1, minutes=5)
    dispatch_all(settings)
    assert "maintenance membership" in sent_to(twilio, PATIENT)[-1]


def test_an_opted_out_patient_gets_no_offer_planned(spa, db_url, clock):
    with session_scope(db_url) as session:
        session.get_one(Patient, spa["patient_id"]).opted_out_at = clock.now() - timedelta(days=1)
    _visit(db_url, spa, "botox", clock.now() - timedelta(days=100))
    _visit(db_url, spa, "botox", clock.now() + timedelta(hours=36), status="booked")
    assert _plan(db_url, clock) == []


def test_the_worker_plans_due_offers_once_whatever_the_number_of_workers(spa, db_url, clock, redis):
    import worker

    _visit(db_url, spa, "botox", clock.now() - timedelta(days=100))
    _visit(db_url, spa, "botox", clock.now() + timedelta(hours=36), status="booked")
    assert worker.plan_growth() == 1
    assert worker.plan_growth() == 0
    with session_scope(db_url) as session:
        assert len(session.exec(select(Offer)).all()) == 1


def test_a_complaint_that_names_a_goal_stays_a_complaint(spa, db_url, clock, twilio, settings):
    _visit(db_url, spa, "botox", clock.now() - timedelta(days=14))
    text_in("I'm so disappointed, my goal was to maintain my results and now they're worse")
    with session_scope(db_url) as session:
        assert session.exec(select(Escalation).where(Escalation.reason == "goal_changed")).first() is None
        assert session.exec(select(Offer)).first() is None
