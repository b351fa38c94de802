"""Bad input changes nothing and gets a reason: generated requests to the webhooks and the appointments API
never see a 500; named bad values are refused field by field; a racing practice system gets one row."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import threading

import pytest
import requests
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlmodel import select
from werkzeug.serving import make_server

from store.db import session_scope
from store.models import Appointment, Message
from tests.helpers import APPOINTMENT, HMAC_SECRET, TWILIO_TOKEN
from tests.helpers import post_appointment as post
from tests.twilio_payloads import load, post_signed

FUZZ = hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
"""Enough generated requests per endpoint and database to find the classes of crash the issue lists."""

texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | texts,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(texts, children, max_size=3),
    max_leaves=8,
)


def _refused_with_a_reason(answer) -> bool:
    return answer.status_code < 500 and (answer.status_code < 400 or bool(answer.get_data(as_text=True).strip()))


@FUZZ
@given(body=texts, sender=texts, extra=st.dictionaries(st.sampled_from(["NumMedia", "OptOutType", "To"]), texts))
def test_generated_inbound_texts_never_crash(client, body, sender, extra):
    params = load("inbound_basic", Body=body, From=sender or "+15125550143", **extra)
    answer = post_signed(client, "/sms/inbound", params, TWILIO_TOKEN)
    assert _refused_with_a_reason(answer), answer.get_data(as_text=True)[:300]


@FUZZ
@given(status=texts, code=texts, sid=texts)
def test_generated_status_callbacks_never_crash(client, status, code, sid):
    params = load("status_delivered", MessageStatus=status or "delivered", ErrorCode=code, MessageSid=sid or "SMx")
    answer = post_signed(client, "/sms/status", params, TWILIO_TOKEN)
    assert _refused_with_a_reason(answer), answer.get_data(as_text=True)[:300]


FIELDS = [
    ("external_id",),
    ("start",),
    ("price",),
    ("service", "code"),
    ("location", "timezone"),
    ("patient", "phone"),
    ("patient", "email"),
    ("patient", "first_name"),
    ("patient", "birthday"),
    ("patient", "consent", "at"),
]


@FUZZ
@given(path=st.sampled_from(FIELDS), value=json_values)
def test_generated_appointments_never_crash_and_partial_ones_write_nothing(client, settings, path, value):
    payload = copy.deepcopy(APPOINTMENT)
    target = payload
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    answer = post(client, payload)
    assert answer.status_code in (200, 400), answer.get_data(as_text=True)[:300]
    if answer.status_code == 400:
        assert answer.json["errors"] and all(e["field"] and e["message"] for e in answer.json["errors"])


@pytest.mark.parametrize(
    "path, value, field",
    [
        (("patient", "first_name"), "An\x00a", "patient.first_name"),
        (("patient", "phone"), "+1512555\x000143", "patient.phone"),
        (("patient", "email"), "ana\x00@example.com", "patient.email"),
        (("external_id",), "A-\x1b[31m", "external_id"),
        (("location", "timezone"), "America", "location.timezone"),
        (("start",), "0001-01-01T00:00:00+05:00", "start"),
        (("patient", "birthday"), "0001-01-01", "patient.birthday"),
        (("price",), float("nan"), "price"),
        (("price",), float("inf"), "price"),
        (("price",), True, "price"),
    ],
)
def test_named_bad_values_are_field_errors(client, settings, path, value, field):
    payload = copy.deepcopy(APPOINTMENT)
    target = payload
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    answer = post(client, payload, raw=json.dumps(payload).encode())
    assert answer.status_code == 400
    assert field in [e["field"] for e in answer.json["errors"]]
    with session_scope(settings.database_url) as db:
        assert db.exec(select(Appointment)).all() == []


def test_deeply_nested_json_is_refused(client):
    answer = post(client, None, raw=b'{"a": ' * 100_000 + b"1" + b"}" * 100_000)
    assert answer.status_code in (400, 413)


def test_a_huge_unsigned_body_is_refused_before_it_is_read(client):
    answer = client.post("/api/appointments", data=b"x" * (2 * 1024 * 1024), content_type="application/json")
    assert answer.status_code == 413


def test_nul_in_an_inbound_text_is_refused_and_stores_nothing(client, settings):
    answer = post_signed(client, "/sms/inbound", load("inbound_basic", Body="hi\x00"), TWILIO_TOKEN)
    assert answer.status_code == 400 and "NUL character in Body" in answer.get_data(as_text=True)
    with session_scope(settings.database_url) as db:
        assert db.exec(select(Message)).all() == []


def test_a_status_callback_error_code_must_be_a_number(client):
    answer = post_signed(client, "/sms/status", load("status_delivered", ErrorCode="30003; DROP"), TWILIO_TOKEN)
    assert answer.status_code == 400 and "ErrorCode must be a number" in answer.get_data(as_text=True)


def test_the_same_new_appointment_posted_20_times_at_once_is_one_row(app, settings):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    body = json.dumps(APPOINTMENT).encode()
    signed = hmac.new(HMAC_SECRET.encode(), body, hashlib.sha256).hexdigest()
    barrier, answers = threading.Barrier(20), []

    def send():
        barrier.wait()
        answers.append(
            requests.post(
                f"http://127.0.0.1:{server.server_port}/api/appointments",
                data=body,
                headers={"Content-Type": "application/json", "X-Aftercare-Signature": "sha256=" + signed},
                timeout=60,
            ).status_code
        )

    try:
        senders = [threading.Thread(target=send) for _ in range(20)]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
    finally:
        server.shutdown()
    assert answers == [200] * 20
    with session_scope(settings.database_url) as db:
        assert len(db.exec(select(Appointment)).all()) == 1
