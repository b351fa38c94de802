"""SmsTransport against the fake Twilio over real HTTP: retries only when they cannot double-send."""

from __future__ import annotations

import logging
import socket
import time
from datetime import UTC, datetime, timedelta

import pytest
from tenacity import wait_none

from bot.clock import FrozenClock
from bot.demo.fake_twilio import FakeTwilio
from bot.errors import AmbiguousSendError, TransportError
from bot.messaging.transport import SendResult, SmsTransport, mask_phone
from bot.settings import Settings

SID = "AC" + "3" * 32
TOKEN = "transport-token"
PATIENT = "+15125550143"
PRACTICE = "+15125550100"
SERVICE = "MG" + "4" * 32


@pytest.fixture
def fake():
    # the fake Twilio; callbacks off, these tests are about creates
    server = FakeTwilio(account_sid=SID, auth_token=TOKEN, callbacks=False, callback_delay=0.01)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(fake):
    # a practice that sends from one number through the fake
    return Settings(
        twilio_account_sid=SID,
        twilio_auth_token=TOKEN,
        twilio_api_base_url=fake.base_url,
        twilio_from_number=PRACTICE,
    )


@pytest.fixture
def transport(settings):
    # no waiting between attempts; a short read timeout so delays become timeouts quickly
    client = SmsTransport(settings, wait=wait_none(), timeout=0.5)
    yield client
    client.close()


def test_send_returns_the_sid_and_segments(transport, fake):
    result = transport.send(PATIENT, "How is your skin today?")

    assert isinstance(result, SendResult)
    assert result.sid.startswith("SM") and result.status == "queued"
    assert result.num_segments == 1 and result.adopted is False
    assert [(m["sid"], m["to"], m["from"]) for m in fake.messages] == [(result.sid, PATIENT, PRACTICE)]


def test_rate_limited_send_is_retried_and_sent_once(transport, fake):
    fake.inject(status=429)

    result = transport.send(PATIENT, "Time to rebook?")

    assert fake.create_requests() == 2
    assert [m["sid"] for m in fake.messages] == [result.sid]
    assert result.adopted is False


def test_500_after_twilio_stored_the_message_adopts_it_without_resending(transport, fake):
    fake.inject(status=500, after_store=True)

    result = transport.send(PATIENT, "Your check-in")

    assert fake.create_requests() == 1
    assert [m["sid"] for m in fake.messages] == [result.sid]
    assert result.adopted is True


def test_500_before_storing_is_looked_up_then_retried_once(transport, fake):
    fake.inject(status=500)

    result = transport.send(PATIENT, "Your check-in")

    assert fake.create_requests() == 2
    assert [m["sid"] for m in fake.messages] == [result.sid]
    assert result.adopted is False


def test_read_timeout_after_twilio_stored_the_message_is_not_resent(transport, fake):
    fake.inject(delay=2.0, after_store=True)

    result = transport.send(PATIENT, "Your check-in")

    assert result.adopted is True
    assert fake.create_requests() == 1
    assert [m["sid"] for m in fake.messages] == [result.sid]


def test_a_timeout_while_twilio_is_still_storing_is_ambiguous_not_resent(transport, fake):
    # Twilio takes longer than the read timeout before it stores the text: a look-up right after the
    # timeout cannot see it yet, so nothing short of a later look-up may decide to send again.
    fake.inject(delay=1.5)

    with pytest.raises(AmbiguousSendError):
        transport.send(PATIENT, "Your check-in")

    assert fake.create_requests() == 1
    deadline = time.monotonic() + 5
    while not fake.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(fake.messages) == 1


def test_adoption_takes_the_newest_identical_text(transport, fake):
    earlier = transport.send(PATIENT, "Same words")
    fake.inject(status=500, after_store=True)

    result = transport.send(PATIENT, "Same words")

    assert result.adopted is True and result.sid != earlier.sid
    assert len(fake.messages) == 2


def test_unconfirmable_send_is_ambiguous_and_never_resent(transport, fake):
    fake.inject(status=500)
    fake.inject(status=503, on="list", times=10)

    with pytest.raises(AmbiguousSendError) as unsure:
        transport.send(PATIENT, "Your check-in")

    assert unsure.value.permanent is False
    assert fake.create_requests() == 1


def test_found_sent_after_an_ambiguous_error_can_be_checked_later(transport, fake):
    started = datetime.now(UTC)
    fake.inject(status=500, after_store=True)
    fake.inject(status=503, on="list", times=transport.attempts)  # one failed lookup per attempt
    with pytest.raises(AmbiguousSendError):
        transport.send(PATIENT, "Your check-in")

    found = transport.find_sent(PATIENT, "Your check-in", since=started - timedelta(minutes=1), from_=PRACTICE)

    assert found is not None and found.adopted is True
    assert [m["sid"] for m in fake.messages] == [found.sid]
    assert transport.find_sent(PATIENT, "Other words", since=started - timedelta(minutes=1)) is None


def test_invalid_number_is_permanent_and_not_retried(transport, fake):
    with pytest.raises(TransportError) as refused:
        transport.send("+1512555", "hi")

    assert refused.value.permanent is True
    assert refused.value.code == 21211 and refused.value.status == 400
    assert "1512555" not in str(refused.value)  # Twilio quotes the number; errors get logged
    assert fake.create_requests() == 1
    assert fake.messages == []


def test_opted_out_recipient_is_permanent_with_21610(transport, fake):
    fake.opt_out(PATIENT)

    with pytest.raises(TransportError) as refused:
        transport.send(PATIENT, "Time to rebook?")

    assert refused.value.permanent is True and refused.value.code == 21610
    assert fake.create_requests() == 1


def test_rate_limit_that_never_clears_ends_transient(transport, fake):
    fake.inject(status=429, times=10)

    with pytest.raises(TransportError) as failed:
        transport.send(PATIENT, "hi")

    assert failed.value.permanent is False and failed.value.code == 20429
    assert fake.create_requests() == transport.attempts
    assert fake.messages == []


def test_twilio_down_ends_transient_with_one_create_per_attempt(transport, fake):
    fake.inject(status=503, times=10)

    with pytest.raises(TransportError) as failed:
        transport.send(PATIENT, "hi")

    assert failed.value.permanent is False
    assert fake.create_requests() == transport.attempts
    assert fake.messages == []


def test_unreachable_twilio_is_retried_then_transient(settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    transport = SmsTransport(
        settings.with_(twilio_api_base_url=f"http://127.0.0.1:{closed_port}"), wait=wait_none(), attempts=2
    )
    try:
        with pytest.raises(TransportError) as failed:
            transport.send(PATIENT, "hi")
    finally:
        transport.close()
    assert failed.value.permanent is False
    assert "not sent after 2 attempts" in str(failed.value)


def test_messaging_service_send_is_adopted_by_recipient_and_service(settings, fake):
    transport = SmsTransport(
        settings.with_(twilio_from_number=None, twilio_messaging_service_sid=SERVICE), wait=wait_none()
    )
    fake.inject(status=500, after_store=True)
    try:
        result = transport.send(PATIENT, "Through the service")
    finally:
        transport.close()
    # The fake moves the message along (accepted, queued, sent, delivered) as time passes; any of them is adopted.
    assert result.adopted is True and result.status in ("accepted", "queued", "sending", "sent", "delivered")
    assert fake.messages[0]["messaging_service_sid"] == SERVICE and len(fake.messages) == 1


def test_explicit_sender_wins_over_the_default(transport, fake):
    transport.send(PATIENT, "From the other location", from_="+15125550101")
    assert fake.messages[0]["from"] == "+15125550101"


def test_no_sender_configured_is_permanent(settings, fake):
    transport = SmsTransport(settings.with_(twilio_from_number=None), wait=wait_none())
    try:
        with pytest.raises(TransportError) as refused:
            transport.send(PATIENT, "hi")
    finally:
        transport.close()
    assert refused.value.permanent is True
    assert fake.create_requests() == 0


def test_not_before_in_the_future_sends_nothing(settings, fake):
    clock = FrozenClock(datetime(2026, 11, 20, 14, 0, tzinfo=UTC))
    transport = SmsTransport(settings, clock=clock, wait=wait_none())
    try:
        with pytest.raises(TransportError) as early:
            transport.send(PATIENT, "hi", not_before=clock.now() + timedelta(minutes=5))
        assert early.value.permanent is False
        assert fake.create_requests() == 0
        clock.advance(minutes=5)
        assert transport.send(PATIENT, "hi", not_before=datetime(2026, 11, 20, 14, 5, tzinfo=UTC)).sid
    finally:
        transport.close()


def test_status_callback_url_is_passed_to_twilio(transport, fake):
    fake.callbacks = True
    result = transport.send(PATIENT, "hi", status_callback="http://127.0.0.1:9/sms/status")
    assert fake._callback_urls[result.sid] == "http://127.0.0.1:9/sms/status"


def test_fetch_reports_status_and_error_code(transport, fake):
    fake.unreachable[PATIENT] = 30003
    sid = transport.send(PATIENT, "hi").sid

    deadline = datetime.now() + timedelta(seconds=3)
    while transport.fetch(sid)["status"] != "undelivered" and datetime.now() < deadline:
        pass

    state = transport.fetch(sid)
    assert state["status"] == "undelivered" and state["error_code"] == 30003
    assert state["sid"] == sid and state["num_segments"] == 1


def test_fetch_unknown_sid_is_permanent_404(transport):
    with pytest.raises(TransportError) as missing:
        transport.fetch("SM" + "0" * 32)
    assert missing.value.permanent is True
    assert missing.value.code == 20404 and missing.value.status == 404


def test_logs_show_only_the_last_four_digits(transport, fake, caplog):
    # INFO is the production level; the stock twilio client would log query strings (numbers) here.
    fake.inject(status=500, after_store=True)
    with caplog.at_level(logging.INFO):
        transport.send(PATIENT, "hi")
        with pytest.raises(TransportError):
            transport.send("+15125550177", "")
    assert caplog.records
    assert "5550143" not in caplog.text and "5550177" not in caplog.text
    assert mask_phone(PATIENT) in caplog.text
    assert mask_phone(PATIENT).endswith("0143")
