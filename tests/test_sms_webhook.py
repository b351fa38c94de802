"""POST /sms/inbound and /sms/status: signatures, dedupe, storage, guards at once, enqueueing."""

from __future__ import annotations

from rq import Queue
from sqlmodel import select

from store.db import session_scope
from store.models import Escalation, Message, Patient, Touch
from tests.helpers import TWILIO_TOKEN, outbound_message, seed_patient
from tests.twilio_payloads import load, post_signed


def _messages(db_url):
    with session_scope(db_url) as session:
        return session.exec(select(Message)).all()


def test_signed_inbound_is_stored_and_enqueued(client, settings, redis):
    response = post_signed(client, "/sms/inbound", load("inbound_basic"), TWILIO_TOKEN)
    assert response.status_code == 200
    assert response.mimetype == "text/xml" and b"<Response></Response>" in response.data
    [message] = _messages(settings.database_url)
    assert (message.direction, message.from_number, message.body) == (
        "in",
        "+15125550143",
        "Can I come in next Tuesday after 5?",
    )
    queue = Queue("inbound", connection=redis)
    assert queue.job_ids == [f"inbound-{message.id}"]


def test_bad_signature_is_refused_and_nothing_stored(client, settings, redis):
    params = load("inbound_basic")
    assert post_signed(client, "/sms/inbound", params, "wrong-token").status_code == 403
    assert post_signed(client, "/sms/inbound", params, TWILIO_TOKEN, signature="").status_code == 403
    assert post_signed(client, "/sms/inbound", params, TWILIO_TOKEN, base="http://elsewhere.test").status_code == 403
    assert _messages(settings.database_url) == []
    assert Queue("inbound", connection=redis).count == 0


def test_a_signature_over_the_url_with_its_port_is_accepted_and_one_that_does_not_match_is_not(client, settings):
    # Twilio signs the URL with or without the port (the SDK checks both): the webhook tries the URL as
    # given first and then the SDK's check, so both forms pass, and a wrong one still fails both.
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(TWILIO_TOKEN)
    params = load("inbound_basic")
    with_port = validator.compute_signature("http://aftercare.test:80/sms/inbound", params)
    assert post_signed(client, "/sms/inbound", params, TWILIO_TOKEN, signature=with_port).status_code == 200
    other = load("inbound_basic", MessageSid="SM" + "f" * 32)
    wrong_port = validator.compute_signature("http://aftercare.test:8080/sms/inbound", other)
    assert post_signed(client, "/sms/inbound", other, TWILIO_TOKEN, signature=wrong_port).status_code == 403
    assert [m.twilio_sid for m in _messages(settings.database_url)] == [params["MessageSid"]]


def test_changed_body_under_old_signature_is_refused(client, settings):
    from twilio.request_validator import RequestValidator

    params = load("inbound_basic")
    signature = RequestValidator(TWILIO_TOKEN).compute_signature("http://aftercare.test/sms/inbound", params)
    tampered = {**params, "Body": "STOP"}
    assert post_signed(client, "/sms/inbound", tampered, TWILIO_TOKEN, signature=signature).status_code == 403
    assert _messages(settings.database_url) == []


def test_same_message_sid_twice_stores_one_message(client, settings, redis):
    params = load("inbound_basic")
    assert post_signed(client, "/sms/inbound", params, TWILIO_TOKEN).status_code == 200
    assert post_signed(client, "/sms/inbound", params, TWILIO_TOKEN).status_code == 200
    assert len(_messages(settings.database_url)) == 1
    assert Queue("inbound", connection=redis).count == 1


def test_signed_request_missing_fields_gets_400_and_stores_nothing(client, settings):
    for field in ("From", "To", "MessageSid"):
        response = post_signed(client, "/sms/inbound", load("inbound_basic", **{field: None}), TWILIO_TOKEN)
        assert response.status_code == 400, field
        assert field.encode() in response.data
    assert _messages(settings.database_url) == []


def test_stop_opts_out_in_the_webhook_without_a_worker(client, settings, clock):
    patient_id = seed_patient(settings.database_url, clock)
    assert post_signed(client, "/sms/inbound", load("inbound_stop"), TWILIO_TOKEN).status_code == 200
    with session_scope(settings.database_url) as session:
        patient = session.get(Patient, patient_id)
        assert patient.opted_out_at is not None
        assert not patient.care_sms and not patient.marketing_sms
        touches = session.exec(select(Touch).where(Touch.patient_id == patient_id)).all()
        assert [(t.status, t.reason) for t in touches] == [("suppressed", "opted_out")]


def test_red_flag_opens_an_escalation_in_the_webhook(client, settings, clock):
    patient_id = seed_patient(settings.database_url, clock)
    assert post_signed(client, "/sms/inbound", load("inbound_red_flag"), TWILIO_TOKEN).status_code == 200
    with session_scope(settings.database_url) as session:
        [escalation] = session.exec(select(Escalation)).all()
        assert escalation.urgency == "emergency" and escalation.status == "open"
        assert escalation.patient_id == patient_id


def test_public_base_url_is_what_the_signature_covers(client, settings):
    """Behind a TLS proxy Flask sees http://localhost; Twilio signed the public URL."""
    params = load("inbound_basic")
    response = post_signed(client, "/sms/inbound", params, TWILIO_TOKEN, base="http://localhost")
    assert response.status_code == 403
    assert post_signed(client, "/sms/inbound", params, TWILIO_TOKEN, base="http://aftercare.test").status_code == 200


def test_status_callback_updates_the_message(client, settings):
    message_id = outbound_message(settings.database_url, "SM0123456789abcdef0123456789abcdef")
    assert post_signed(client, "/sms/status", load("status_delivered"), TWILIO_TOKEN).status_code == 204
    with session_scope(settings.database_url) as session:
        assert session.get(Message, message_id).status == "delivered"


def test_status_never_moves_backwards(client, settings):
    message_id = outbound_message(settings.database_url, "SM0123456789abcdef0123456789abcdef", status="delivered")
    late = load("status_delivered", MessageStatus="sent", SmsStatus="sent")
    assert post_signed(client, "/sms/status", late, TWILIO_TOKEN).status_code == 204
    with session_scope(settings.database_url) as session:
        assert session.get(Message, message_id).status == "delivered"


def test_status_for_unknown_sid_is_acknowledged(client, settings):
    response = post_signed(client, "/sms/status", load("status_delivered", MessageSid="SMunknown"), TWILIO_TOKEN)
    assert response.status_code == 204


def test_status_callback_with_bad_signature_changes_nothing(client, settings):
    message_id = outbound_message(settings.database_url, "SM0123456789abcdef0123456789abcdef")
    assert post_signed(client, "/sms/status", load("status_delivered"), "nope").status_code == 403
    with session_scope(settings.database_url) as session:
        assert session.get(Message, message_id).status == "sent"


def test_repeated_unreachable_errors_flag_the_number(client, settings, clock):
    patient_id = seed_patient(settings.database_url, clock)
    for n in range(3):
        sid = f"SM{n:032d}"
        outbound_message(settings.database_url, sid, patient_id=patient_id)
        params = load("status_undelivered_30003", MessageSid=sid, SmsSid=sid)
        assert post_signed(client, "/sms/status", params, TWILIO_TOKEN).status_code == 204
    with session_scope(settings.database_url) as session:
        patient = session.get(Patient, patient_id)
        assert patient.undelivered_count == 3
        assert patient.flag_reason == "twilio 30003"


def test_carrier_unsubscribed_error_opts_the_patient_out(client, settings, clock):
    patient_id = seed_patient(settings.database_url, clock)
    outbound_message(settings.database_url, "SM0123456789abcdef0123456789abcdef", patient_id=patient_id)
    params = load("status_undelivered_30003", MessageStatus="failed", SmsStatus="failed", ErrorCode="21610")
    post_signed(client, "/sms/status", params, TWILIO_TOKEN)
    with session_scope(settings.database_url) as session:
        assert session.get(Patient, patient_id).opt_out_source == "carrier:21610"


def test_webhook_survives_a_database_connection_dropped_by_the_server(client, settings, db_url):
    import pytest
    from sqlalchemy import create_engine, text

    from store.db import get_engine

    if not db_url.startswith("postgresql"):
        pytest.skip("only a database server drops connections")
    assert post_signed(client, "/sms/inbound", load("inbound_basic"), TWILIO_TOKEN).status_code == 200
    with get_engine(db_url, autocommit=True).connect() as connection:  # the pooled connection the webhook reuses
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar()
    killer = create_engine(db_url)
    with killer.connect() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    killer.dispose()
    again = load("inbound_basic", MessageSid="SM" + "d" * 32)
    assert post_signed(client, "/sms/inbound", again, TWILIO_TOKEN).status_code == 200
    assert len(_messages(db_url)) == 2


def test_twilio_advanced_opt_out_keyword_is_honoured(client, settings, clock):
    """A practice may add its own opt-out words in Twilio; Twilio then says so with OptOutType."""
    patient_id = seed_patient(settings.database_url, clock)
    params = load("inbound_stop", Body="ARRET", OptOutType="STOP")
    assert post_signed(client, "/sms/inbound", params, TWILIO_TOKEN).status_code == 200
    with session_scope(settings.database_url) as session:
        assert session.get(Patient, patient_id).opt_out_source == "sms:twilio_opt_out_type:stop"


def test_opt_out_with_a_red_flag_still_escalates(client, settings, clock):
    seed_patient(settings.database_url, clock)
    params = load("inbound_red_flag", Body="stop texting me, I can't breathe and my throat is closing")
    assert post_signed(client, "/sms/inbound", params, TWILIO_TOKEN).status_code == 200
    with session_scope(settings.database_url) as session:
        [escalation] = session.exec(select(Escalation)).all()
        assert escalation.urgency == "emergency"
        assert session.exec(select(Patient)).one().opted_out_at is not None
