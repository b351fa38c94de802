"""The LLM path under the same rules as the local one, end to end: signed webhook, the worker's queues,
the real `openai` client against the local fake OpenAI server, the fake Twilio over HTTP, a real database.

Guards outrank the model; a model emergency no guard made still pages; a model opt-out no guard made waits
for staff and sends nothing; the other intents of a multi-intent message are acted on and recorded; an
answer the schema refuses falls back to the local classifier, which says why.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot import runtime
from fakes.openai_server import FakeOpenAI, answer, raw
from store.db import session_scope
from store.models import Escalation, Message, Patient, StaffUser
from tests import factories
from tests.helpers import PATIENT, sent_to, text_in

NURSE, INJECTOR = "+15125550111", "+15125550122"


@pytest.fixture
def fake_llm(twilio, clock):
    """The fake OpenAI server, with the app's settings pointed at it (short timeout); reset per test."""
    with FakeOpenAI() as fake:
        runtime.configure(
            runtime.settings().with_(openai_base_url=fake.base_url, openai_api_key="test-key", llm_timeout_s=1.0),
            clock,
        )
        yield fake


@pytest.fixture
def spa(settings, clock, db_url):
    """Ana had lip filler yesterday; a nurse is on call and an injector is the backup."""
    with session_scope(db_url) as session:
        practice = factories.practice(session, emergency_line="+15125550177")
        patient = factories.patient(session, practice.id)
        service = factories.service(session, practice.id)
        factories.appointment(session, patient, service, clock.now() - timedelta(days=1))
        session.add_all(
            [
                StaffUser(practice_id=practice.id, name="Nina Nurse", role="nurse", phone=NURSE, on_call=True),
                StaffUser(practice_id=practice.id, name="Ivy Injector", role="injector", phone=INJECTOR, backup=True),
            ]
        )
        return {"practice_id": practice.id, "patient_id": patient.id}


def _answer(intent, urgency="none", also=(), confidence=0.9):
    return answer(
        {
            "intent": intent,
            "also_intents": list(also),
            "urgency": urgency,
            "confidence": confidence,
            "rationale": "scripted",
            "entities": {
                "date_preference": None,
                "time_preference": None,
                "slot_choice": None,
                "friend_first_name": None,
                "language": "en",
            },
        }
    )


def _decision(db_url) -> dict:
    with session_scope(db_url) as session:
        message = session.exec(select(Message).where(Message.direction == "in").order_by(Message.id.desc())).first()
        return dict(message.decision)


def _escalations(db_url) -> list[Escalation]:
    with session_scope(db_url) as session:
        return list(session.exec(select(Escalation).order_by(Escalation.id)))


def test_a_red_flag_stays_an_emergency_whatever_the_model_says(fake_llm, twilio, spa, db_url):
    fake_llm.queue(_answer("positive_feedback", confidence=0.99))
    text_in("my lip is going white and dusky and it hurts so much")
    decision = _decision(db_url)
    assert (decision["intent"], decision["urgency"], decision["path"]) == ("side_effect_concern", "emergency", "llm")
    assert decision["guard_rule"] == "redflag:vascular_occlusion"
    [found] = _escalations(db_url)
    assert found.urgency == "emergency" and found.paged_at is not None
    assert len(sent_to(twilio, NURSE)) == 1 and len(sent_to(twilio, INJECTOR)) == 1
    assert "911" in sent_to(twilio, PATIENT)[0]


def test_a_carrier_keyword_is_decided_before_any_model_is_asked(fake_llm, twilio, spa, db_url):
    text_in("STOP")
    assert fake_llm.requests == []
    decision = _decision(db_url)
    assert (decision["intent"], decision["path"], decision["needs_confirmation"]) == ("opt_out", "guard", False)
    with session_scope(db_url) as session:
        assert session.get(Patient, spa["patient_id"]).opted_out_at is not None


@pytest.mark.parametrize("urgency", ["emergency", "urgent"])
def test_a_model_emergency_no_guard_made_is_at_least_urgent_and_pages(fake_llm, twilio, spa, db_url, urgency):
    fake_llm.queue(_answer("side_effect_concern", urgency))
    text_in("something is really wrong with my face since yesterday, I'm scared")
    decision = _decision(db_url)
    assert decision["path"] == "llm" and decision["guard_rule"] is None
    assert decision["urgency"] in ("urgent", "emergency")
    [found] = _escalations(db_url)
    assert found.urgency in ("urgent", "emergency") and found.paged_at is not None
    assert len(sent_to(twilio, NURSE)) == 1
    [reply] = sent_to(twilio, PATIENT)
    assert "911" in reply


def test_a_model_opt_out_no_guard_made_waits_for_staff_and_sends_nothing(fake_llm, twilio, spa, db_url):
    fake_llm.queue(_answer("opt_out", confidence=0.97))
    text_in("i think im done with all of this honestly")
    decision = _decision(db_url)
    assert (decision["intent"], decision["path"], decision["needs_confirmation"]) == ("opt_out", "llm", True)
    assert "opt_out_unconfirmed" in decision["actions"]
    assert sent_to(twilio, PATIENT) == []
    with session_scope(db_url) as session:
        assert session.get(Patient, spa["patient_id"]).opted_out_at is None
    [item] = _escalations(db_url)
    assert item.reason == "needs_reply:looks_like_opt_out_please_confirm" and item.status == "open"


def test_an_opt_out_among_the_other_intents_decides_and_still_waits_for_staff(fake_llm, twilio, spa, db_url):
    fake_llm.queue(_answer("positive_feedback", also=["referral", "opt_out"]))
    text_in("love my lips! my sister wants to come in. and honestly enough with the deals")
    decision = _decision(db_url)
    assert (decision["intent"], decision["needs_confirmation"]) == ("opt_out", True)
    assert decision["entities"]["also_intents"] == ["positive_feedback", "referral"]
    assert sent_to(twilio, PATIENT) == []
    with session_scope(db_url) as session:
        assert session.get(Patient, spa["patient_id"]).opted_out_at is None


def test_a_symptom_among_the_other_intents_reaches_staff_first(fake_llm, twilio, spa, db_url):
    fake_llm.queue(_answer("rebook_request", also=["side_effect_concern", "question"]))
    text_in("can I book a touch up next week? also my top lip is still a bit swollen, and do you validate parking")
    decision = _decision(db_url)
    assert (decision["intent"], decision["urgency"]) == ("side_effect_concern", "routine")
    assert decision["entities"]["also_intents"] == ["rebook_request", "question"]
    assert decision["handler"] == "side_effect.handle"
    [item] = _escalations(db_url)
    assert item.urgency == "routine" and item.status == "open"
    assert sent_to(twilio, NURSE) == []  # routine: the inbox, not a page


def test_the_other_intents_are_recorded_on_the_decision(fake_llm, twilio, spa, db_url):
    fake_llm.queue(_answer("referral", also=["positive_feedback", "referral"]))
    text_in("thank you so much, my friend wants the same lips!")
    decision = _decision(db_url)
    assert decision["intent"] == "referral" and decision["entities"]["also_intents"] == ["positive_feedback"]


@pytest.mark.parametrize(
    "script, reason",
    [
        (raw("Sure! The intent is rebook."), "llm_malformed_json"),
        (answer({"intent": "book", "urgency": "none"}), "llm_schema"),
        (raw(""), "llm_empty"),
    ],
)
def test_an_answer_off_the_schema_falls_back_to_local_with_the_reason(fake_llm, twilio, spa, db_url, script, reason):
    fake_llm.queue(script)
    text_in("my lip is a little swollen today, is that normal?")
    decision = _decision(db_url)
    assert (decision["path"], decision["fallback_reason"]) == ("local", reason)
    assert (decision["intent"], decision["urgency"]) == ("side_effect_concern", "routine")
    [item] = _escalations(db_url)
    assert item.urgency == "routine"
