"""The fake Twilio speaks Twilio's Messages API: driven here by the real `twilio` client."""

from __future__ import annotations

import queue
import threading
from datetime import UTC, datetime, timedelta

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from bot.demo.fake_twilio import FakeTwilio, count_segments
from bot.messaging.transport import QuietHttpClient

SID = "AC" + "1" * 32
TOKEN = "test-token"
PATIENT = "+15125550143"
PRACTICE = "+15125550100"
SERVICE = "MG" + "2" * 32


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args):
        pass


class Receiver:
    """A tiny webhook endpoint that records what it receives (status callbacks, inbound texts)."""

    def __init__(self, answer: str = "<Response/>"):
        self.received: queue.Queue = queue.Queue()
        self.answer = answer
        self.server = make_server("127.0.0.1", 0, self, threaded=True, request_handler=_Quiet)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.received.put((request.url, request.form.to_dict(), request.headers.get("X-Twilio-Signature")))
        return Response(self.answer, mimetype="text/xml")(environ, start_response)

    def next(self, timeout: float = 3.0):
        return self.received.get(timeout=timeout)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


class MovableNow:
    """The fake's idea of now, so messages can be dated in the past."""

    def __init__(self):
        self.moment = datetime.now(UTC)

    def __call__(self):
        return self.moment


@pytest.fixture
def now():
    # lets a test send messages "on" other days
    return MovableNow()


@pytest.fixture
def receiver():
    # stands in for the app's /sms/status and /sms/inbound endpoints
    hook = Receiver()
    yield hook
    hook.stop()


@pytest.fixture
def fake(now, receiver):
    # the fake Twilio, with its inbound webhook pointed at the receiver
    server = FakeTwilio(account_sid=SID, auth_token=TOKEN, inbound_url=receiver.url, callback_delay=0.01, now=now)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def client(fake):
    # the real twilio client, pointed at the fake
    http = QuietHttpClient(timeout=5)
    twilio = Client(SID, TOKEN, http_client=http)
    twilio.api.base_url = fake.base_url
    yield twilio
    http.session.close()


def test_create_returns_a_twilio_message_resource(client, fake):
    message = client.messages.create(to=PATIENT, from_=PRACTICE, body="Hi Ana, how is your skin today?")

    assert message.sid.startswith("SM") and len(message.sid) == 34
    assert message.status == "queued"
    assert message.to == PATIENT and message.from_ == PRACTICE
    assert message.num_segments == "1"
    assert message.price is None and message.error_code is None
    assert message.direction == "outbound-api"
    assert isinstance(message.date_created, datetime) and isinstance(message.date_sent, datetime)
    assert message.uri == f"/2010-04-01/Accounts/{SID}/Messages/{message.sid}.json"
    assert [m["sid"] for m in fake.messages] == [message.sid]


class _StockClientUnlogged(TwilioHttpClient):
    """The SDK's own request path, with its logging (phone numbers at INFO) off."""

    def log_request(self, kwargs):
        pass

    def log_response(self, status_code, response):
        pass


def test_a_form_prepared_by_the_lean_client_arrives_as_the_stock_client_sends_it(fake):
    # QuietHttpClient encodes forms itself instead of through `requests`' preparation: the fake must
    # store what the SDK's own client stores, characters that mean something in a form included.
    body = "Hi Ana & co: 50% off + 1=1? ¿Cómo estás? ñ 😀\nReply STOP"
    stored = []
    for http in (_StockClientUnlogged(timeout=5), QuietHttpClient(timeout=5)):
        twilio = Client(SID, TOKEN, http_client=http)
        twilio.api.base_url = fake.base_url
        try:
            message = twilio.messages.create(to=PATIENT, from_=PRACTICE, body=body)
            listed = twilio.messages.list(to=PATIENT, date_sent_after=datetime.now(UTC) - timedelta(hours=1), limit=5)
        finally:
            http.session.close()
        assert message.body == body
        assert message.sid in [m.sid for m in listed]
        stored.append({key: value for key, value in fake.messages[-1].items() if key in ("to", "from", "body")})
    assert stored[0] == stored[1] == {"to": PATIENT, "from": PRACTICE, "body": body}


def test_the_lean_client_sends_through_the_environments_proxy(fake, monkeypatch):
    """A deployment behind an egress proxy (HTTP(S)_PROXY) sends through it, as `requests` would."""
    seen: list[str] = []

    def proxy(environ, start_response):
        # A forwarding proxy: the request line carries the absolute URL; pass it on to the fake.
        request = Request(environ)
        seen.append(request.url)
        answer = requests.request(
            request.method,
            environ["REQUEST_URI"],
            data=request.get_data(),
            headers={k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")},
            proxies={"http": "", "https": ""},
            timeout=5,
        )
        start_response(f"{answer.status_code} X", [("Content-Type", answer.headers.get("Content-Type", "text/plain"))])
        return [answer.content]

    server = make_server("127.0.0.1", 0, proxy, threaded=True, request_handler=WSGIRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.server_port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        http = QuietHttpClient(timeout=5)
        twilio = Client(SID, TOKEN, http_client=http)
        twilio.api.base_url = fake.base_url
        message = twilio.messages.create(to=PATIENT, from_=PRACTICE, body="via the proxy")
        http.session.close()
    finally:
        server.shutdown()
    assert any(url.endswith("/Messages.json") for url in seen), seen
    assert fake.get(message.sid)["body"] == "via the proxy"


def test_messaging_service_send_is_accepted_then_gets_a_sender(client, fake):
    message = client.messages.create(to=PATIENT, messaging_service_sid=SERVICE, body="Hello")

    assert message.status == "accepted"
    assert message.from_ is None
    assert message.messaging_service_sid == SERVICE
    assert _wait_for(lambda: client.messages(message.sid).fetch().status == "delivered")
    assert client.messages(message.sid).fetch().from_ == fake.service_number


def test_wrong_credentials_get_twilio_401(fake):
    http = QuietHttpClient(timeout=5)
    intruder = Client(SID, "wrong-token", http_client=http)
    intruder.api.base_url = fake.base_url
    try:
        with pytest.raises(TwilioRestException) as refused:
            intruder.messages.create(to=PATIENT, from_=PRACTICE, body="x")
    finally:
        http.session.close()
    assert refused.value.status == 401 and refused.value.code == 20003
    assert fake.messages == []


@pytest.mark.parametrize(
    "to, body, code",
    [
        ("5125550143", "hi", 21211),
        ("+1512", "hi", 21211),
        ("+15125550199", "hi", 21614),
        ("+15125550177", "hi", 21610),
        (PATIENT, "", 21602),
    ],
    ids=["not-e164", "too-short", "landline", "opted-out", "no-body"],
)
def test_refused_creates_answer_twilio_error_codes(client, fake, to, body, code):
    fake.landlines.add("+15125550199")
    fake.opt_out("+15125550177")

    with pytest.raises(TwilioRestException) as refused:
        client.messages.create(to=to, from_=PRACTICE, body=body)

    assert refused.value.status == 400 and refused.value.code == code
    assert fake.messages == []


def test_error_body_has_twilio_shape(fake):
    answer = requests.post(
        f"{fake.base_url}/2010-04-01/Accounts/{SID}/Messages.json",
        data={"To": "nonsense", "From": PRACTICE, "Body": "x"},
        auth=(SID, TOKEN),
        timeout=5,
    )
    assert answer.status_code == 400
    assert set(answer.json()) == {"code", "message", "more_info", "status"}
    assert answer.json()["code"] == 21211 and answer.json()["status"] == 400


def test_list_filters_by_to_from_and_date_sent(client, fake, now):
    other = "+15125550188"
    now.moment = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)
    old = client.messages.create(to=PATIENT, from_=PRACTICE, body="old")
    now.moment = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    recent = client.messages.create(to=PATIENT, from_=PRACTICE, body="recent")
    client.messages.create(to=other, from_=PRACTICE, body="someone else")
    client.messages.create(to=PATIENT, from_="+15125550101", body="other location")

    to_patient = client.messages.list(to=PATIENT, from_=PRACTICE)
    assert [m.sid for m in to_patient] == [recent.sid, old.sid]  # newest first, like Twilio
    assert [m.body for m in client.messages.list(to=other)] == ["someone else"]
    after = client.messages.list(to=PATIENT, from_=PRACTICE, date_sent_after=datetime(2026, 11, 19, tzinfo=UTC))
    assert [m.sid for m in after] == [recent.sid]
    before = client.messages.list(to=PATIENT, date_sent_before=datetime(2026, 11, 19, tzinfo=UTC))
    assert [m.sid for m in before] == [old.sid]
    on_day = client.messages.list(date_sent="2026-11-18")
    assert [m.sid for m in on_day] == [old.sid]
    to_the_second = client.messages.list(date_sent_after=datetime(2026, 11, 20, 15, 0, 1, tzinfo=UTC))
    assert to_the_second == []


def test_list_pages_through_every_message(client, fake):
    sent = [client.messages.create(to=PATIENT, from_=PRACTICE, body=f"text {i}").sid for i in range(7)]

    listed = [m.sid for m in client.messages.list(to=PATIENT, page_size=3)]

    assert listed == list(reversed(sent))
    page = client.messages.page(page_size=3)
    assert page.next_page_url is not None


def test_an_unencoded_plus_from_a_shell_still_means_plus(fake):
    created = requests.post(
        f"{fake.base_url}/2010-04-01/Accounts/{SID}/Messages.json",
        data=f"To={PATIENT}&From={PRACTICE}&Body=hi",  # as `curl -d To=+1...` sends it
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=(SID, TOKEN),
        timeout=5,
    )
    assert created.status_code == 201 and created.json()["to"] == PATIENT
    answer = requests.get(
        f"{fake.base_url}/2010-04-01/Accounts/{SID}/Messages.json?To={PATIENT}", auth=(SID, TOKEN), timeout=5
    )
    assert [m["to"] for m in answer.json()["messages"]] == [PATIENT]
    assert answer.json()["page_size"] == 50 and answer.json()["next_page_uri"] is None


def test_fetch_unknown_sid_is_twilio_404(client):
    with pytest.raises(TwilioRestException) as missing:
        client.messages("SM" + "f" * 32).fetch()
    assert missing.value.status == 404 and missing.value.code == 20404


@pytest.mark.parametrize(
    "body, segments, encoding",
    [
        ("a" * 160, 1, "GSM-7"),
        ("a" * 161, 2, "GSM-7"),
        ("a" * 306, 2, "GSM-7"),
        ("a" * 307, 3, "GSM-7"),
        ("ñé¿¡ü" * 32, 1, "GSM-7"),
        ("€" * 80, 1, "GSM-7"),  # extension characters cost two septets
        ("€" * 81, 2, "GSM-7"),
        ("😀" + "a" * 68, 1, "UCS-2"),  # an emoji is two UTF-16 units
        ("😀" + "a" * 69, 2, "UCS-2"),
        ("á" * 70, 1, "UCS-2"),  # lower-case á is not in GSM-7
        ("á" * 71, 2, "UCS-2"),
        ("á" * 134, 2, "UCS-2"),
        ("á" * 135, 3, "UCS-2"),
        ("“quoted”", 1, "UCS-2"),
    ],
)
def test_segments_are_counted_like_carriers_do(body, segments, encoding):
    assert count_segments(body) == (segments, encoding)


def test_created_message_reports_its_segments(client):
    assert client.messages.create(to=PATIENT, from_=PRACTICE, body="a" * 161).num_segments == "2"
    assert client.messages.create(to=PATIENT, from_=PRACTICE, body="😀" * 36).num_segments == "2"


def test_status_callbacks_are_signed_like_twilio(client, receiver):
    message = client.messages.create(to=PATIENT, from_=PRACTICE, body="hi", status_callback=receiver.url)

    validator = RequestValidator(TOKEN)
    statuses = []
    for _ in range(2):
        url, form, signature = receiver.next()
        assert validator.validate(url, form, signature)
        assert form["MessageSid"] == form["SmsSid"] == message.sid
        assert form["AccountSid"] == SID and form["ApiVersion"] == "2010-04-01"
        assert form["To"] == PATIENT and form["From"] == PRACTICE
        assert "ErrorCode" not in form
        statuses.append(form["MessageStatus"])
    assert statuses == ["sent", "delivered"]
    assert client.messages(message.sid).fetch().status == "delivered"


def test_unreachable_number_ends_undelivered_with_error_code(client, fake, receiver):
    fake.unreachable["+15125550166"] = 30003
    message = client.messages.create(to="+15125550166", from_=PRACTICE, body="hi", status_callback=receiver.url)

    forms = [receiver.next()[1], receiver.next()[1]]

    assert [f["MessageStatus"] for f in forms] == ["sent", "undelivered"]
    assert forms[1]["ErrorCode"] == "30003"
    fetched = client.messages(message.sid).fetch()
    assert fetched.status == "undelivered" and fetched.error_code == 30003


def test_callbacks_can_be_turned_off(client, fake, receiver):
    fake.callbacks = False
    message = client.messages.create(to=PATIENT, from_=PRACTICE, body="hi", status_callback=receiver.url)
    assert _wait_for(lambda: client.messages(message.sid).fetch().status == "delivered")
    assert receiver.received.empty()


def test_inbound_posts_a_correctly_signed_twilio_form(fake, receiver):
    answer = requests.post(
        f"{fake.base_url}/_fake/inbound", json={"from": PATIENT, "to": PRACTICE, "body": "Can I rebook?"}, timeout=5
    )

    assert answer.status_code == 200 and answer.json()["status"] == 200
    url, form, signature = receiver.next()
    assert RequestValidator(TOKEN).validate(url, form, signature)
    assert not RequestValidator("another-token").validate(url, form, signature)
    assert form["MessageSid"] == form["SmsSid"] == answer.json()["sid"]
    assert form["From"] == PATIENT and form["To"] == PRACTICE and form["Body"] == "Can I rebook?"
    assert form["NumMedia"] == "0" and form["NumSegments"] == "1" and form["FromCountry"] == "US"
    assert form["AccountSid"] == SID and form["ApiVersion"] == "2010-04-01"
    assert [m["body"] for m in fake.inbound] == ["Can I rebook?"]
    assert fake.messages == []


def test_inbound_stop_blocks_later_sends_like_twilio(client, fake, receiver):
    fake.send_inbound(PATIENT, PRACTICE, " stop! ")
    assert receiver.next()[1]["OptOutType"] == "STOP"

    with pytest.raises(TwilioRestException) as refused:
        client.messages.create(to=PATIENT, from_=PRACTICE, body="Time to rebook?")
    assert refused.value.code == 21610

    fake.send_inbound(PATIENT, PRACTICE, "START")
    assert receiver.next()[1]["OptOutType"] == "START"
    assert client.messages.create(to=PATIENT, from_=PRACTICE, body="Welcome back").status == "queued"


def test_an_account_that_handles_its_own_opt_outs_is_not_blocked(client, fake, receiver):
    """With Twilio's opt-out management off, STOP still reaches the webhook marked as such, and the
    practice's own confirmation goes out: stopping other texts is the practice's software's job."""
    fake.blocks_opted_out = False
    fake.send_inbound(PATIENT, PRACTICE, "STOP")
    assert receiver.next()[1]["OptOutType"] == "STOP"
    sent = client.messages.create(to=PATIENT, from_=PRACTICE, body="You're unsubscribed. Reply START to resume.")
    assert sent.status == "queued" and fake.get(sent.sid)["body"].startswith("You're unsubscribed")


def test_twiml_replies_to_inbound_are_sent(fake, receiver):
    receiver.answer = "<?xml version='1.0'?><Response><Message>Thanks, we got it.</Message></Response>"
    result = fake.send_inbound(PATIENT, PRACTICE, "hello")
    assert [m["body"] for m in fake.messages] == ["Thanks, we got it."]
    assert fake.messages[0]["to"] == PATIENT and fake.messages[0]["from"] == PRACTICE
    assert result["replies"] == [fake.messages[0]["sid"]]


def test_control_endpoints_script_faults_and_show_messages(fake, client):
    base = fake.base_url
    assert requests.post(f"{base}/_fake/faults", json={"status": 429, "times": 2}, timeout=5).status_code == 201
    for _ in range(2):
        with pytest.raises(TwilioRestException) as limited:
            client.messages.create(to=PATIENT, from_=PRACTICE, body="hi")
        assert limited.value.status == 429 and limited.value.code == 20429
    client.messages.create(to=PATIENT, from_=PRACTICE, body="first")
    client.messages.create(to=PATIENT, from_=PRACTICE, body="second")

    listed = requests.get(f"{base}/_fake/messages", timeout=5).json()
    assert [m["body"] for m in listed] == ["first", "second"]  # newest last
    assert requests.post(f"{base}/_fake/reset", timeout=5).status_code == 200
    assert requests.get(f"{base}/_fake/messages", timeout=5).json() == []
    assert requests.post(f"{base}/_fake/faults", json={"status": 418}, timeout=5).status_code == 400


def test_500_after_store_keeps_the_message(client, fake):
    fake.inject(status=500, after_store=True)
    with pytest.raises(TwilioRestException) as failed:
        client.messages.create(to=PATIENT, from_=PRACTICE, body="hi")
    assert failed.value.status == 500
    assert [m["body"] for m in fake.messages] == ["hi"]


def _wait_for(condition, timeout: float = 3.0) -> bool:
    deadline = datetime.now() + timedelta(seconds=timeout)
    while datetime.now() < deadline:
        if condition():
            return True
        threading.Event().wait(0.02)
    return False
