"""The webhooks survive one dropped database connection (a PostgreSQL restart) without a 500."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from bot.messaging import outbox
from bot.vocabulary import MessageKind
from store.db import get_engine, session_scope
from store.models import Escalation, Message
from tests import factories
from tests.helpers import PATIENT, PRACTICE_NUMBER, TWILIO_TOKEN, next_sid
from tests.twilio_payloads import load, post_signed


def _drop_every_connection(db_url: str) -> None:
    """What a database restart does to the web worker's pooled connections."""
    if not db_url.startswith("postgresql"):
        pytest.skip("a dropped connection is a PostgreSQL event")
    with get_engine(db_url).connect() as connection:  # make sure the pool holds a connection to lose
        connection.execute(text("SELECT 1"))
    admin = get_engine(db_url, autocommit=True)
    with admin.connect() as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )


def test_a_red_flag_right_after_a_database_restart_is_escalated_and_answered(settings, client, clock, db_url):
    with session_scope(db_url) as session:
        practice = factories.practice(session)
        patient = factories.patient(session, practice.id)
        service = factories.service(session, practice.id, category="filler")
        factories.appointment(session, patient, service, clock.now() - timedelta(days=1))
    _drop_every_connection(db_url)

    sid = next_sid()
    params = load(
        "inbound_basic",
        Body="my lip is turning white and it hurts",
        From=PATIENT,
        MessageSid=sid,
        SmsSid=sid,
        SmsMessageSid=sid,
    )
    answer = post_signed(client, "/sms/inbound", params, TWILIO_TOKEN)

    assert answer.status_code == 200
    assert [m.text for m in ET.fromstring(answer.get_data()).iter("Message")]
    with session_scope(db_url) as session:
        assert session.exec(select(Escalation.urgency)).all() == ["emergency"]


def test_a_status_callback_right_after_a_database_restart_is_recorded(settings, client, db_url):
    with session_scope(db_url) as session:
        row = outbox.queue_text(
            session,
            key="reply-reconnect",
            to=PATIENT,
            from_=PRACTICE_NUMBER,
            body="Hi",
            kind=MessageKind.REPLY,
            reply_kind="thanks",
        )
        row.twilio_sid, row.status = "SM" + "c" * 32, "sent"
        session.add(row)
        message_id = row.id
    _drop_every_connection(db_url)

    answer = post_signed(
        client, "/sms/status", {"MessageSid": "SM" + "c" * 32, "MessageStatus": "delivered"}, TWILIO_TOKEN
    )

    assert answer.status_code == 204
    with session_scope(db_url) as session:
        assert session.get(Message, message_id).status == "delivered"
