"""A delivery callback that arrives before its send has stored the SID is kept and applied when it lands."""

from __future__ import annotations

from sqlmodel import select

from bot.messaging import delivery, outbox
from bot.vocabulary import MessageKind
from store.db import session_scope
from store.models import EarlyStatus, Message, Patient
from tests.helpers import PATIENT, PRACTICE_NUMBER, TWILIO_TOKEN, seed_visit
from tests.twilio_payloads import post_signed

SID = "SM" + "e" * 32


def _pending_reply(db_url, ids) -> int:
    with session_scope(db_url) as session:
        return outbox.queue_text(
            session,
            key="reply-early-1",
            to=PATIENT,
            from_=PRACTICE_NUMBER,
            body="See you Tuesday!",
            kind=MessageKind.REPLY,
            reply_kind="confirmed",
            practice_id=ids["practice_id"],
            patient_id=ids["patient_id"],
        ).id


def test_a_callback_for_a_sid_not_stored_yet_is_kept_not_dropped(settings, client, db_url):
    answer = post_signed(
        client, "/sms/status", {"MessageSid": SID, "MessageStatus": "undelivered", "ErrorCode": "30003"}, TWILIO_TOKEN
    )
    assert answer.status_code == 204
    with session_scope(db_url) as session:
        held = session.get(EarlyStatus, SID)
        assert (held.status, held.error_code) == ("undelivered", 30003)


def test_the_held_callback_is_applied_when_the_send_stores_its_sid(settings, db_url):
    ids = seed_visit(db_url)
    message_id = _pending_reply(db_url, ids)
    assert delivery.record_status(SID, "sent") is False
    assert delivery.record_status(SID, "undelivered", "30003") is False
    assert delivery.record_status(SID, "sending") is False  # late and out of order: never moves back

    outbox._record(message_id, SID, "queued", 1)

    with session_scope(db_url) as session:
        message = session.get(Message, message_id)
        assert (message.status, message.error_code) == ("undelivered", 30003)
        assert session.get(Patient, ids["patient_id"]).undelivered_count == 1
        assert session.exec(select(EarlyStatus)).all() == []


def test_the_sweep_applies_a_callback_that_raced_the_sends_own_check(settings, db_url):
    ids = seed_visit(db_url)
    message_id = _pending_reply(db_url, ids)
    delivery.record_status(SID, "delivered")
    with session_scope(db_url) as session:  # the SID landed without looking (a send's commit raced it)
        message = session.get(Message, message_id)
        message.twilio_sid, message.status = SID, "queued"
        session.add(message)

    assert delivery.apply_early_statuses() == 1
    with session_scope(db_url) as session:
        assert session.get(Message, message_id).status == "delivered"
    assert delivery.apply_early_statuses() == 0
