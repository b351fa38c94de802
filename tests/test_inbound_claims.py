"""An inbound text whose worker died after claiming it is processed again, and never twice."""

from __future__ import annotations

from rq.job import Job, JobStatus
from sqlalchemy import update
from sqlmodel import select

from app import create_app
from bot import runtime
from bot.conversation import inbound, processing
from bot.queue import redis_connection
from store.db import session_scope
from store.models import Message
from tests.helpers import PATIENT, TWILIO_TOKEN, next_sid, seed_patient, sent_to, work
from tests.twilio_payloads import load, post_signed


def _received(body: str) -> int:
    """The patient's text through the signed webhook: recorded and queued, not yet processed."""
    sid = next_sid()
    params = load("inbound_basic", Body=body, From=PATIENT, MessageSid=sid, SmsSid=sid, SmsMessageSid=sid)
    assert (
        post_signed(create_app(runtime.settings()).test_client(), "/sms/inbound", params, TWILIO_TOKEN).status_code
        == 200
    )
    with session_scope(runtime.db_url()) as session:
        return session.exec(select(Message.id).where(Message.twilio_sid == sid)).one()


def _message(message_id: int) -> Message:
    with session_scope(runtime.db_url()) as session:
        return session.get(Message, message_id)


def test_a_text_claimed_by_a_worker_that_died_is_processed_once_the_claim_expires(settings, twilio, clock, db_url):
    seed_patient(db_url, clock)
    message_id = _received("thank you so much, I love my lips!")
    assert processing.claim(message_id)  # a worker took it, then was SIGKILLed before deciding
    Job.fetch(f"inbound-{message_id}", connection=redis_connection(settings)).set_status(JobStatus.STARTED)

    clock.advance(seconds=70)
    assert inbound.requeue_unprocessed() == 0  # the claim is still young: its worker may be alive
    assert processing.process_inbound(message_id) == "already processed"

    clock.advance(seconds=inbound.CLAIM_EXPIRES.total_seconds())
    assert inbound.requeue_unprocessed() == 1
    work()
    message = _message(message_id)
    assert message.processed_at is not None and message.decision["handler"]
    assert inbound.requeue_unprocessed() == 0
    assert processing.process_inbound(message_id) == "already processed"
    assert len(sent_to(twilio, PATIENT)) <= 1


def test_a_run_that_finishes_second_writes_nothing(settings, twilio, clock, db_url, monkeypatch):
    seed_patient(db_url, clock)
    message_id = _received("can I come in next week?")
    route = processing.route

    def the_other_run_finished_meanwhile(turn):
        with session_scope(db_url) as session:
            session.exec(update(Message).where(Message.id == message_id).values(processed_at=clock.now()))
        route(turn)

    monkeypatch.setattr(processing, "route", the_other_run_finished_meanwhile)
    assert processing.process_inbound(message_id) == "already processed"
    with session_scope(db_url) as session:
        assert session.exec(select(Message).where(Message.direction == "out")).all() == []
        assert session.get(Message, message_id).decision is None
