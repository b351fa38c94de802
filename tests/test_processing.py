"""The inbound job: webhook → queue → worker; decisions stored, red flags escalated, each message once."""

from __future__ import annotations

import json
from datetime import timedelta

from rq import Queue, SimpleWorker
from sqlmodel import select

from bot.conversation.processing import process_inbound
from fakes.openai_server import FakeOpenAI, answer
from store.db import session_scope
from store.models import Escalation, Message, Patient
from tests import factories
from tests.helpers import TWILIO_TOKEN
from tests.twilio_payloads import load, post_signed


def seed(db_url, clock, treatment="filler"):
    with session_scope(db_url) as session:
        practice = factories.practice(session)
        patient = factories.patient(session, practice.id, first_name="Marisol", last_name="Quintanilla")
        service = factories.service(session, practice.id, category=treatment)
        factories.appointment(session, patient, service, clock.now() - timedelta(days=2))
        session.add(
            Message(
                practice_id=practice.id,
                patient_id=patient.id,
                direction="out",
                kind="touch",
                from_number=factories.AUSTIN_NUMBER,
                to_number=patient.phone,
                body="Hi Marisol, it's Maya at Glow. How are your lips feeling today?",
                created_at=clock.now() - timedelta(hours=3),
            )
        )
        return patient.id


def inbound(client, body, sid):
    params = load("inbound_basic", Body=body, MessageSid=sid, SmsSid=sid, SmsMessageSid=sid)
    assert post_signed(client, "/sms/inbound", params, TWILIO_TOKEN).status_code == 200


def work(redis):
    SimpleWorker([Queue("inbound", connection=redis)], connection=redis).work(burst=True)


def message_by_sid(db_url, sid):
    with session_scope(db_url) as session:
        return session.exec(select(Message).where(Message.twilio_sid == sid)).one()


def test_worker_stores_the_decision(client, settings, redis, clock):
    patient_id = seed(settings.database_url, clock)
    inbound(client, "can I come in next Tuesday after 5?", "SM" + "1" * 32)
    work(redis)
    message = message_by_sid(settings.database_url, "SM" + "1" * 32)
    assert message.patient_id == patient_id and message.processed_at is not None
    assert message.decision["intent"] == "rebook_request"
    assert message.decision["path"] == "local"


def test_emergency_escalates_with_the_llm_down(client, settings, redis, clock):
    from app import create_app

    down = settings.with_(openai_base_url="http://127.0.0.1:9/v1", openai_api_key="k", llm_timeout_s=0.5)
    client = create_app(down).test_client()
    seed(settings.database_url, clock)
    inbound(client, "my lip looks kinda blueish grey and it hurts so much", "SM" + "2" * 32)
    work(redis)
    message = message_by_sid(settings.database_url, "SM" + "2" * 32)
    assert message.decision["urgency"] == "emergency" and message.decision["path"] in ("guard", "local")
    with session_scope(settings.database_url) as session:
        [escalation] = session.exec(select(Escalation)).all()
    assert (escalation.urgency, escalation.status, escalation.message_id) == ("emergency", "open", message.id)


def test_each_message_is_processed_once(client, settings, redis, clock):
    seed(settings.database_url, clock)
    inbound(client, "thank you so much, love my lips!", "SM" + "3" * 32)
    message = message_by_sid(settings.database_url, "SM" + "3" * 32)
    assert process_inbound(message.id) == "positive_feedback"
    assert process_inbound(message.id) == "already processed"
    work(redis)  # the queued job finds the message already claimed
    with session_scope(settings.database_url) as session:
        assert session.exec(select(Escalation)).all() == []


def test_free_text_opt_out_is_honoured_by_the_worker(client, settings, redis, clock):
    patient_id = seed(settings.database_url, clock)
    inbound(client, "please stop texting me", "SM" + "4" * 32)
    work(redis)
    with session_scope(settings.database_url) as session:
        assert session.get(Patient, patient_id).opted_out_at is not None


def test_the_llm_sees_no_name_or_number(client, settings, redis, clock):
    from app import create_app

    with FakeOpenAI() as fake:
        fake.queue(
            answer(
                {
                    "intent": "question",
                    "urgency": "none",
                    "confidence": 0.9,
                    "rationale": "asks",
                    "entities": {
                        "date_preference": None,
                        "time_preference": None,
                        "slot_choice": None,
                        "friend_first_name": None,
                        "language": "en",
                    },
                }
            )
        )
        client = create_app(settings.with_(openai_base_url=fake.base_url, openai_api_key="k")).test_client()
        seed(settings.database_url, clock)
        inbound(
            client, "this is Marisol Quintanilla, my cell is 512-555-0143, how long until it settles?", "SM" + "5" * 32
        )
        work(redis)
        sent = json.dumps(fake.requests)
    assert fake.requests, "the LLM was called"
    for secret in ("Marisol", "Quintanilla", "555-0143", "5125550143", "+15125550143"):
        assert secret not in sent
    message = message_by_sid(settings.database_url, "SM" + "5" * 32)
    assert message.decision["path"] == "llm" and message.decision["prompt_version"] == "classify_v3"


def test_a_prompt_that_cannot_be_read_does_not_fail_the_job(client, settings, redis, clock, monkeypatch):
    from app import create_app
    from bot.understanding import classifier

    monkeypatch.setattr(classifier, "PROMPT_VERSION", "classify_v999")
    with FakeOpenAI() as fake:
        client = create_app(settings.with_(openai_base_url=fake.base_url, openai_api_key="k")).test_client()
        seed(settings.database_url, clock)
        inbound(client, "can I come in next Tuesday after 5?", "SM" + "7" * 32)
        work(redis)
    assert fake.requests == []
    message = message_by_sid(settings.database_url, "SM" + "7" * 32)
    assert message.processed_at is not None
    assert message.decision["path"] == "local" and message.decision["fallback_reason"] == "prompt_unavailable"
    assert message.decision["intent"] == "rebook_request"
    assert Queue("inbound", connection=redis).failed_job_registry.count == 0


def test_message_whose_job_was_lost_is_requeued_once(client, settings, redis, clock):
    from bot.conversation.inbound import requeue_unprocessed

    seed(settings.database_url, clock)
    inbound(client, "how much is lip filler?", "SM" + "6" * 32)
    redis.flushdb()  # Redis restarted: the job is gone, the row is not
    assert requeue_unprocessed() == 0  # too recent: its job may still be on its way
    clock.advance(minutes=2)
    assert requeue_unprocessed() == 1
    assert requeue_unprocessed() == 0  # its job exists now
    work(redis)
    message = message_by_sid(settings.database_url, "SM" + "6" * 32)
    assert message.decision["intent"] == "question"
    clock.advance(minutes=2)
    assert requeue_unprocessed() == 0  # processed: never again


def test_opted_out_patient_texting_start_is_back_for_care_texts_only(client, settings, redis, clock):
    patient_id = seed(settings.database_url, clock)
    inbound(client, "STOP", "SM" + "7" * 32)
    inbound(client, "unstop", "SM" + "8" * 32)
    work(redis)
    with session_scope(settings.database_url) as session:
        patient = session.get(Patient, patient_id)
        assert patient.opted_out_at is None
        assert patient.care_sms and not patient.marketing_sms


def test_booking_wish_reaches_the_staff_inbox_once(client, settings, redis, clock):
    seed(settings.database_url, clock)
    inbound(client, "can I come in next Tuesday after 5?", "SM" + "9" * 32)
    inbound(client, "or Wednesday works too", "SM" + "a" * 32)
    work(redis)
    with session_scope(settings.database_url) as session:
        [item] = session.exec(select(Escalation)).all()
    assert (item.urgency, item.reason, item.status) == ("routine", "needs_reply:rebook_request", "open")


def test_wrong_number_stops_the_plan(client, settings, redis, clock):
    from store.models import ConversationState, Touch

    patient_id = seed(settings.database_url, clock)
    with session_scope(settings.database_url) as session:
        session.add(
            Touch(
                practice_id=1,
                patient_id=patient_id,
                plan="filler",
                step="rebook",
                purpose="rebook",
                due_at=clock.now() + timedelta(days=150),
            )
        )
    inbound(client, "wrong number, I don't know any Marisol", "SM" + "b" * 32)
    work(redis)
    with session_scope(settings.database_url) as session:
        assert session.get(ConversationState, patient_id).wrong_number
        assert [(t.status, t.reason) for t in session.exec(select(Touch))] == [("suppressed", "wrong_number")]


def test_failed_processing_gives_the_claim_back_for_the_retry(client, settings, redis, clock, monkeypatch):
    import bot.conversation.processing

    seed(settings.database_url, clock)
    inbound(client, "my lips look great, thank you!", "SM" + "c" * 32)
    message = message_by_sid(settings.database_url, "SM" + "c" * 32)
    job = Queue("inbound", connection=redis).fetch_job(f"inbound-{message.id}")
    assert job.retries_left == 3

    def broken(message_id):
        raise RuntimeError("database went away")

    monkeypatch.setattr(bot.conversation.processing, "handle_message", broken)
    try:
        process_inbound(message.id)
    except RuntimeError:
        pass
    assert message_by_sid(settings.database_url, "SM" + "c" * 32).processed_at is None
    monkeypatch.undo()
    assert process_inbound(message.id) == "positive_feedback"
