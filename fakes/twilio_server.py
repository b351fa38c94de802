"""A local fake of Twilio's Messages API, for tests, the demo and benchmarks.

It serves the same URLs, form fields, JSON shapes, error codes and signed
webhooks as Twilio, so the real `twilio` client (or curl) talks to it
unchanged:

    POST /2010-04-01/Accounts/{AccountSid}/Messages.json          create
    GET  /2010-04-01/Accounts/{AccountSid}/Messages.json          list (To, From, DateSent, DateSent<, DateSent>, PageSize)
    GET  /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json    fetch

and a few control endpoints that Twilio does not have:

    POST /_fake/faults     JSON {"status": 429|500|503, "after_store": bool, "delay": s, "times": n, "on": "create"|"list"}
    GET  /_fake/messages   JSON list of every outbound message, newest last
    POST /_fake/reset      forget messages, faults and opt-outs
    POST /_fake/inbound    JSON {"from", "to", "body"}: play the patient through the signed webhook

Run it on its own with `python -m fakes.twilio_server --port 8010 ...`.
"""

from __future__ import annotations

import argparse
import functools
import heapq
import itertools
import json
import logging
import random
import re
import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import urlencode

import phonenumbers
import requests
from twilio.request_validator import RequestValidator
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

log = logging.getLogger("fakes.twilio")

API_VERSION = "2010-04-01"
DEFAULT_SERVICE_NUMBER = "+15005550006"
"""The number a messaging service 'picks' for messages sent through it."""

# The GSM 03.38 basic set costs one septet, its extension table two (escape + char).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")

OPT_OUT_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
OPT_IN_WORDS = {"START", "YES", "UNSTOP"}
HELP_WORDS = {"HELP", "INFO"}

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
MESSAGING_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
MAX_BODY = 1600


def _mask(number: str | None) -> str:
    digits = "".join(c for c in str(number or "") if c.isdigit())
    return "…" + digits[-4:] if digits else "-"


def count_segments(body: str) -> tuple[int, str]:
    """How many SMS segments a body takes, and its encoding ("GSM-7" or "UCS-2").

    One character outside GSM-7 turns the whole message into UCS-2. Split
    messages lose room to the concatenation header (153 septets or 67 UTF-16
    units a part), and a part never ends in the middle of an escape pair or a
    surrogate pair, so a part can hold one less than its room.
    """
    if not body:
        return 0, "GSM-7"
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in body):
        costs = [2 if c in GSM7_EXTENSION else 1 for c in body]
        single, part, encoding = 160, 153, "GSM-7"
    else:
        costs = [2 if ord(c) > 0xFFFF else 1 for c in body]
        single, part, encoding = 70, 67, "UCS-2"
    if sum(costs) <= single:
        return 1, encoding
    segments, used = 1, 0
    for cost in costs:
        if used + cost > part:
            segments, used = segments + 1, 0
        used += cost
    return segments, encoding


def _rfc2822(moment: datetime | None) -> str | None:
    return format_datetime(moment) if moment else None


def _parse_date_filter(value: str) -> tuple[datetime, bool]:
    """A DateSent filter value as (UTC moment, whether only a day was given)."""
    value = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC), True
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC), False


def _filter_number(value: str) -> str:
    # An unencoded "+" in a form or query string arrives as a space (curl users forget).
    if value.startswith(" ") and value.strip()[:1].isdigit():
        return "+" + value.strip()
    return value.strip()


@dataclass
class Fault:
    """One injected failure, applied to the next create (or list) request(s)."""

    status: int | None = None
    after_store: bool = False
    delay: float = 0.0
    times: int = 1
    on: str = "create"


class TwilioError(Exception):
    """A Twilio-shaped error answer."""

    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> Response:
        return _json(
            {
                "code": self.code,
                "message": self.message,
                "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
                "status": self.status,
            },
            self.status,
        )


def _json(payload, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")


class _QuietHandler(WSGIRequestHandler):
    # werkzeug's access log would print query strings, phone numbers included.
    def log_request(self, code="-", size="-"):
        pass


class FakeTwilio:
    """An in-memory Twilio Messages API served over real HTTP on 127.0.0.1.

    Arguments:
        account_sid, auth_token: the credentials requests must carry (basic
            auth) and that webhooks are signed with.
        inbound_url: where `/_fake/inbound` posts the patient's messages.
        callbacks: post status callbacks to each message's StatusCallback.
        callback_delay: seconds between one delivery status and the next.
        landlines: numbers that answer 21614 (not a mobile) on create.
        unreachable: {number: error code} for numbers whose messages end
            undelivered (30003, 30005, 30006, 30007 ...).
        service_number: the sender a messaging service uses.
        log_requests: log one line per request, numbers masked.
        now: returns the current aware UTC time (tests backdate messages with it).
    """

    def __init__(
        self,
        account_sid: str = "AC" + "0" * 32,
        auth_token: str = "dev-twilio-token",
        inbound_url: str | None = None,
        callbacks: bool = True,
        callback_delay: float = 0.01,
        landlines: set[str] | None = None,
        unreachable: dict[str, int] | None = None,
        service_number: str = DEFAULT_SERVICE_NUMBER,
        log_requests: bool = False,
        now=None,
    ):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.inbound_url = inbound_url
        self.callbacks = callbacks
        self.callback_delay = callback_delay
        self.landlines = set(landlines or ())
        self.unreachable = dict(unreachable or {})
        self.service_number = service_number
        self.log_requests = log_requests
        self.now = now or (lambda: datetime.now(UTC))
        self.validator = RequestValidator(auth_token)
        self.base_url: str | None = None

        self._lock = threading.Lock()
        self._by_sid: dict[str, dict] = {}
        self._order: list[str] = []
        self._callback_urls: dict[str, str] = {}
        self._opted_out: set[str] = set()
        self._faults: list[Fault] = []
        self.requests: list[tuple[str, str, int]] = []
        """(method, path, status) of every request answered, oldest first."""
        self._creates = 0

        self._stopping = threading.Event()
        self._timer_cond = threading.Condition()
        self._timers: list[tuple[float, int, str, str]] = []
        self._timer_seq = itertools.count()
        self._timer_thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._server = None
        self._server_thread: threading.Thread | None = None

        self._urls = Map(
            [
                Rule("/2010-04-01/Accounts/<account>/Messages.json", endpoint="messages", methods=["GET", "POST"]),
                Rule("/2010-04-01/Accounts/<account>/Messages/<sid>.json", endpoint="message", methods=["GET"]),
                Rule("/_fake/faults", endpoint="faults", methods=["POST"]),
                Rule("/_fake/messages", endpoint="all_messages", methods=["GET"]),
                Rule("/_fake/reset", endpoint="reset", methods=["POST"]),
                Rule("/_fake/inbound", endpoint="inbound", methods=["POST"]),
            ],
            strict_slashes=False,
        )

    # ---------------------------------------------------------------- lifecycle

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a daemon thread; returns the base URL (http://127.0.0.1:PORT)."""
        self._start_workers()
        self._server = make_server(host, port, self, threaded=True, request_handler=_QuietHandler)
        self.base_url = f"http://{host}:{self._server.server_port}"
        # A short poll interval lets stop() return at once (tests start many fakes).
        self._server_thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-twilio", daemon=True
        )
        self._server_thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving and drop pending callbacks."""
        self._stopping.set()
        with self._timer_cond:
            self._timer_cond.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server_thread.join(5)
            self._server = None
        if self._timer_thread is not None:
            self._timer_thread.join(5)
            self._timer_thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        for session in self._sessions:
            session.close()
        self._sessions.clear()

    def __enter__(self) -> FakeTwilio:
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _start_workers(self) -> None:
        self._stopping.clear()
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="fake-twilio-callback")
        self._timer_thread = threading.Thread(target=self._run_timers, name="fake-twilio-timers", daemon=True)
        self._timer_thread.start()

    # ------------------------------------------------------------ test helpers

    @property
    def messages(self) -> list[dict]:
        """Every outbound message, oldest first (copies of the API resources)."""
        with self._lock:
            return [dict(self._by_sid[sid]) for sid in self._order if self._by_sid[sid]["direction"] != "inbound"]

    @property
    def inbound(self) -> list[dict]:
        """Every inbound message played through `/_fake/inbound`, oldest first."""
        with self._lock:
            return [dict(self._by_sid[sid]) for sid in self._order if self._by_sid[sid]["direction"] == "inbound"]

    def get(self, sid: str) -> dict | None:
        with self._lock:
            message = self._by_sid.get(sid)
            return dict(message) if message else None

    def create_requests(self) -> int:
        """How many create requests arrived, failed and unanswered ones included."""
        with self._lock:
            return self._creates

    def reset(self) -> None:
        """Forget messages, requests, faults, opt-outs and pending callbacks."""
        with self._lock:
            self._by_sid.clear()
            self._order.clear()
            self._callback_urls.clear()
            self._opted_out.clear()
            self._faults.clear()
            self.requests.clear()
            self._creates = 0
        with self._timer_cond:
            self._timers.clear()

    def opt_out(self, number: str) -> None:
        """The number sent STOP: creates to it now fail with 21610."""
        with self._lock:
            self._opted_out.add(number)

    def opt_in(self, number: str) -> None:
        with self._lock:
            self._opted_out.discard(number)

    def inject(
        self,
        status: int | None = None,
        after_store: bool = False,
        delay: float = 0.0,
        times: int = 1,
        on: str = "create",
    ) -> None:
        """Make the next `times` create requests fail (or list requests, with on="list").

        status 429 answers error 20429 and stores nothing; 500/503 answer an
        error before storing, or after storing when `after_store` (the message
        exists but the client sees an error). `delay` holds the answer that
        many seconds, to provoke client read timeouts: with `after_store` the
        message is stored first, otherwise it is stored (or refused) after.
        A list fault answers its status (or waits) instead of the list.
        """
        if on not in ("create", "list"):
            raise ValueError(f"faults apply to create or list, not {on}")
        if status not in (None, 429, 500, 502, 503, 504):
            raise ValueError(f"unsupported fault status {status}")
        if status is None and not delay:
            raise ValueError("a fault needs a status or a delay")
        with self._lock:
            self._faults.append(Fault(status, after_store, float(delay), max(1, int(times)), on))

    # ------------------------------------------------------------------- WSGI

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            endpoint, args = self._urls.bind_to_environ(environ).match()
            response = getattr(self, "_on_" + endpoint)(request, **args)
        except TwilioError as error:
            response = error.response()
        except NotFound:
            response = TwilioError(404, 20404, f"The requested resource {request.path} was not found").response()
        except HTTPException as error:
            response = TwilioError(error.code, 20001, error.description or error.name).response()
        with self._lock:
            self.requests.append((request.method, request.path, response.status_code))
        if self.log_requests:
            log.info("%s %s %s%s", request.method, request.path, response.status_code, self._log_details(request))
        return response(environ, start_response)

    @staticmethod
    def _log_details(request: Request) -> str:
        fields = {**request.args, **(request.form if request.method == "POST" else {})}
        shown = [
            f"{k}={_mask(v) if k in ('To', 'From') else v}"
            for k, v in fields.items()
            if k in ("To", "From", "DateSent", "DateSent>", "DateSent<")
        ]
        return (" " + " ".join(shown)) if shown else ""

    def _authenticate(self, request: Request, account: str) -> None:
        auth = request.authorization
        if (
            not auth
            or auth.username != self.account_sid
            or auth.password != self.auth_token
            or account != self.account_sid
        ):
            raise TwilioError(401, 20003, "Authenticate")

    def _on_messages(self, request: Request, account: str) -> Response:
        self._authenticate(request, account)
        if request.method == "POST":
            return self._create(request)
        return self._list(request)

    def _on_message(self, request: Request, account: str, sid: str) -> Response:
        self._authenticate(request, account)
        message = self.get(sid)
        if message is None:
            raise TwilioError(404, 20404, f"The requested resource {request.path} was not found")
        return _json(message)

    # ------------------------------------------------------------------ create

    def _next_fault(self, on: str) -> Fault | None:
        with self._lock:
            fault = next((f for f in self._faults if f.on == on), None)
            if fault is None:
                return None
            fault.times -= 1
            if fault.times <= 0:
                self._faults.remove(fault)
            return fault

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def _create(self, request: Request) -> Response:
        with self._lock:
            self._creates += 1
        fault = self._next_fault("create")
        if fault and not fault.after_store:
            self._wait(fault.delay)
            if fault.status:
                raise self._fault_error(fault.status)
        form = request.form
        message = self._validate_and_store(
            to=_filter_number(form.get("To", "")),
            from_=_filter_number(form["From"]) if form.get("From") else None,
            service_sid=form.get("MessagingServiceSid"),
            body=form.get("Body"),
            status_callback=form.get("StatusCallback"),
        )
        if fault and fault.after_store:
            self._wait(fault.delay)
            if fault.status:
                raise self._fault_error(fault.status)
        return _json(message, 201)

    @staticmethod
    def _fault_error(status: int) -> TwilioError:
        if status == 429:
            return TwilioError(429, 20429, "Too Many Requests")
        return TwilioError(status, 20000 + status, "Internal Server Error" if status == 500 else "Service Unavailable")

    def _validate_and_store(self, to, from_, service_sid, body, status_callback) -> dict:
        to = (to or "").strip()
        if not to:
            raise TwilioError(400, 21604, "A 'To' phone number is required.")
        if not _is_phone(to):
            raise TwilioError(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if service_sid:
            if not MESSAGING_SERVICE_SID.match(service_sid):
                raise TwilioError(400, 21701, f"The Messaging Service Sid {service_sid} is invalid.")
        elif not from_:
            raise TwilioError(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message")
        elif not _is_phone(from_):
            raise TwilioError(400, 21212, f"Invalid 'From' Phone Number: {_mask(from_)}")
        if not body:
            raise TwilioError(400, 21602, "Message body is required.")
        if len(body) > MAX_BODY:
            raise TwilioError(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        if to in self.landlines:
            raise TwilioError(400, 21614, f"'To' number {_mask(to)} is not a valid mobile number")
        with self._lock:
            if to in self._opted_out:
                raise TwilioError(400, 21610, "Attempt to send to unsubscribed recipient")
        segments, _ = count_segments(body)
        now = self.now().replace(microsecond=0)
        sid = _new_sid()
        message = self._resource(
            sid=sid,
            to=to,
            from_=None if service_sid and not from_ else from_,
            body=body,
            status="accepted" if service_sid else "queued",
            direction="outbound-api",
            segments=segments,
            service_sid=service_sid,
            now=now,
        )
        with self._lock:
            self._by_sid[sid] = message
            self._order.append(sid)
            if status_callback:
                self._callback_urls[sid] = status_callback
        self._schedule(sid, "queued" if service_sid else "sent")
        return dict(message)

    def _resource(self, sid, to, from_, body, status, direction, segments, service_sid, now) -> dict:
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        stamp = _rfc2822(now)
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": body,
            # The fake hands a message to the carrier at once, so it is listed by DateSent straight away.
            "date_created": stamp,
            "date_sent": stamp,
            "date_updated": stamp,
            "direction": direction,
            "error_code": None,
            "error_message": None,
            "from": from_,
            "messaging_service_sid": service_sid,
            "num_media": "0",
            "num_segments": str(segments),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": status,
            "subresource_uris": {"media": base + "/Media.json", "feedback": base + "/Feedback.json"},
            "to": to,
            "uri": base + ".json",
        }

    # -------------------------------------------------------------------- list

    def _list(self, request: Request) -> Response:
        fault = self._next_fault("list")
        if fault:
            self._wait(fault.delay)
            if fault.status:
                raise self._fault_error(fault.status)
        args = request.args
        try:
            page_size = max(1, min(1000, int(args.get("PageSize", 50))))
            page = max(0, int(args.get("Page", 0)))
        except ValueError:
            raise TwilioError(400, 20001, "Invalid PageSize or Page") from None
        checks = []
        if "To" in args:
            to = _filter_number(args["To"])
            checks.append(lambda m: m["to"] == to)
        if "From" in args:
            from_ = _filter_number(args["From"])
            checks.append(lambda m: m["from"] == from_)
        for name in ("DateSent", "DateSent>", "DateSent<"):
            if name in args:
                try:
                    checks.append(_date_check(name, *_parse_date_filter(args[name])))
                except ValueError:
                    raise TwilioError(400, 20001, f"Invalid {name}: {args[name]}") from None
        with self._lock:
            newest_first = [self._by_sid[sid] for sid in reversed(self._order)]
            matched = [dict(m) for m in newest_first if all(check(m) for check in checks)]
        # A page token (the last SID seen) keeps pages stable while new messages arrive.
        token = args.get("PageToken", "")
        start = 0
        if token.startswith("PA"):
            sids = [m["sid"] for m in matched]
            start = sids.index(token[2:]) + 1 if token[2:] in sids else len(sids)
        records = matched[start : start + page_size]
        query = {k: v for k, v in args.items() if k not in ("Page", "PageSize", "PageToken")}
        path = request.path

        def page_uri(number, page_token=None):
            params = dict(query, PageSize=page_size, Page=number)
            if page_token:
                params["PageToken"] = page_token
            return f"{path}?{urlencode(params)}"

        has_more = start + page_size < len(matched)
        return _json(
            {
                "messages": records,
                "end": start + len(records) - 1 if records else 0,
                "first_page_uri": page_uri(0),
                "next_page_uri": page_uri(page + 1, "PA" + records[-1]["sid"]) if has_more and records else None,
                "page": page,
                "page_size": page_size,
                "previous_page_uri": page_uri(page - 1) if page > 0 else None,
                "start": start,
                "uri": page_uri(page, token or None),
            }
        )

    # ---------------------------------------------------------------- controls

    def _on_faults(self, request: Request) -> Response:
        spec = request.get_json(silent=True) or {}
        try:
            self.inject(
                status=spec.get("status"),
                after_store=bool(spec.get("after_store", False)),
                delay=float(spec.get("delay", 0.0)),
                times=int(spec.get("times", 1)),
                on=str(spec.get("on", "create")),
            )
        except (TypeError, ValueError) as error:
            raise TwilioError(400, 20001, str(error)) from None
        with self._lock:
            pending = [vars(f) for f in self._faults]
        return _json({"faults": pending}, 201)

    def _on_all_messages(self, request: Request) -> Response:
        return _json(self.messages)

    def _on_reset(self, request: Request) -> Response:
        self.reset()
        return _json({"reset": True})

    def _on_inbound(self, request: Request) -> Response:
        spec = request.get_json(silent=True) or {}
        if not spec.get("from") or not spec.get("to") or spec.get("body") is None:
            raise TwilioError(400, 20001, "JSON body needs from, to and body")
        return _json(self.send_inbound(spec["from"], spec["to"], spec["body"]))

    # ----------------------------------------------------------------- inbound

    def send_inbound(self, from_: str, to: str, body: str) -> dict:
        """Post a patient's text to the inbound webhook, signed like Twilio.

        Returns {"sid", "status"} with the webhook's HTTP status (None when it
        could not be reached) and the messages its TwiML answered with.
        """
        if not self.inbound_url:
            raise TwilioError(409, 20001, "the fake has no inbound_url configured")
        segments, _ = count_segments(body)
        sid = _new_sid()
        word = re.sub(r"[^\w]", "", body).upper()
        if word in OPT_OUT_WORDS:
            self.opt_out(from_)
        elif word in OPT_IN_WORDS:
            self.opt_in(from_)
        form = {
            "ToCountry": _country(to),
            "ToState": "",
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "ToCity": "",
            "FromZip": "",
            "SmsSid": sid,
            "FromState": "",
            "SmsStatus": "received",
            "FromCity": "",
            "Body": body,
            "FromCountry": _country(from_),
            "To": to,
            "ToZip": "",
            "NumSegments": str(segments),
            "MessageSid": sid,
            "AccountSid": self.account_sid,
            "From": from_,
            "ApiVersion": API_VERSION,
        }
        if word in OPT_OUT_WORDS | OPT_IN_WORDS | HELP_WORDS:
            form["OptOutType"] = "STOP" if word in OPT_OUT_WORDS else "START" if word in OPT_IN_WORDS else "HELP"
        now = self.now().replace(microsecond=0)
        record = self._resource(sid, to, from_, body, "received", "inbound", segments, None, now)
        with self._lock:
            self._by_sid[sid] = record
            self._order.append(sid)
        signature = self.validator.compute_signature(self.inbound_url, form)
        try:
            answer = self._session().post(
                self.inbound_url, data=form, headers={"X-Twilio-Signature": signature}, timeout=15
            )
        except requests.RequestException as error:
            log.warning("inbound webhook unreachable: %s", type(error).__name__)
            return {"sid": sid, "status": None, "replies": []}
        replies = [self._reply(to, from_, text) for text in _twiml_messages(answer.text)]
        return {"sid": sid, "status": answer.status_code, "replies": replies}

    def _reply(self, practice: str, patient: str, text: str) -> str:
        # TwiML <Message> answers go out like any other text.
        try:
            return self._validate_and_store(patient, practice, None, text, None)["sid"]
        except TwilioError as error:
            return f"error {error.code}"

    # -------------------------------------------------- delivery and callbacks

    def _schedule(self, sid: str, status: str, delay: float | None = None) -> None:
        due = time.monotonic() + (self.callback_delay if delay is None else delay)
        with self._timer_cond:
            heapq.heappush(self._timers, (due, next(self._timer_seq), sid, status))
            self._timer_cond.notify()

    def _run_timers(self) -> None:
        while not self._stopping.is_set():
            with self._timer_cond:
                if not self._timers:
                    self._timer_cond.wait(0.5)
                    continue
                due, _, sid, status = self._timers[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self._timer_cond.wait(wait)
                    continue
                heapq.heappop(self._timers)
            pool = self._pool
            if pool is None:
                return
            try:
                pool.submit(self._advance, sid, status)
            except RuntimeError:  # the pool shut down under us
                return

    def _advance(self, sid: str, status: str) -> None:
        """Move a message to `status`, post its callback, schedule the next step."""
        try:
            with self._lock:
                message = self._by_sid.get(sid)
                if message is None:
                    return
                error_code = self.unreachable.get(message["to"]) if status in ("undelivered", "failed") else None
                message["status"] = status
                message["date_updated"] = _rfc2822(self.now())
                if status == "sent" and message["from"] is None:
                    message["from"] = self.service_number
                if error_code:
                    message["error_code"] = error_code
                    message["error_message"] = _DELIVERY_ERRORS.get(error_code, "Delivery failed")
                snapshot = dict(message)
                callback_url = self._callback_urls.get(sid)
            if callback_url and self.callbacks:
                self._post_callback(callback_url, snapshot)
            following = {"queued": "sent", "sent": "undelivered" if snapshot["to"] in self.unreachable else "delivered"}
            if status in following and not self._stopping.is_set():
                self._schedule(sid, following[status])
        except Exception:  # a fake's worker must never die or leak into the test run
            log.exception("fake twilio could not advance %s", sid)

    def _post_callback(self, url: str, message: dict) -> None:
        form = {
            "AccountSid": message["account_sid"],
            "ApiVersion": API_VERSION,
            "From": message["from"] or "",
            "MessageSid": message["sid"],
            "MessageStatus": message["status"],
            "SmsSid": message["sid"],
            "SmsStatus": message["status"],
            "To": message["to"],
        }
        if message["messaging_service_sid"]:
            form["MessagingServiceSid"] = message["messaging_service_sid"]
        if message["error_code"] and message["status"] in ("undelivered", "failed"):
            form["ErrorCode"] = str(message["error_code"])
        signature = self.validator.compute_signature(url, form)
        try:
            self._session().post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=5).close()
        except requests.RequestException as error:
            log.warning("status callback for %s failed: %s", message["sid"], type(error).__name__)

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            with self._lock:
                self._sessions.append(session)
        return session


_DELIVERY_ERRORS = {
    30003: "Unreachable destination handset",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
    30007: "Message filtered",
    30008: "Unknown error",
}


def _new_sid() -> str:
    # Unique, not secret: os.urandom is needlessly slow on the hot path.
    return f"SM{_sids.getrandbits(128):032x}"


_sids = random.Random()


@functools.lru_cache(maxsize=4096)
def _is_phone(number: str) -> bool:
    if not E164.match(number):
        return False
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse(number, None))
    except phonenumbers.NumberParseException:
        return False


def _country(number: str) -> str:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number, None)) or ""
    except phonenumbers.NumberParseException:
        return ""


def _date_check(name: str, moment: datetime, day_only: bool):
    def sent(message: dict) -> datetime | None:
        stamp = message["date_sent"]
        return datetime.strptime(stamp, "%a, %d %b %Y %H:%M:%S %z") if stamp else None

    if name == "DateSent":
        if day_only:
            return lambda m: sent(m) is not None and sent(m).date() == moment.date()
        return lambda m: sent(m) is not None and sent(m) == moment
    if name == "DateSent>":  # on or after
        return lambda m: sent(m) is not None and sent(m) >= moment
    if day_only:  # on or before: the whole day counts
        return lambda m: sent(m) is not None and sent(m) < moment + timedelta(days=1)
    return lambda m: sent(m) is not None and sent(m) <= moment


def _twiml_messages(text: str) -> list[str]:
    """The texts of the <Message> verbs in a TwiML answer (none for empty TwiML)."""
    if "<Message" not in (text or ""):
        return []
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return []
    found = []
    for element in root.iter("Message"):
        body = element.find("Body")
        value = (body.text if body is not None else element.text) or ""
        if value.strip():
            found.append(value.strip())
    return found


def main(argv: list[str] | None = None) -> None:
    """Serve the fake until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m fakes.twilio_server", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8010)
    parser.add_argument("--account-sid", default="AC" + "0" * 32)
    parser.add_argument("--auth-token", default="dev-twilio-token")
    parser.add_argument("--inbound-url", default=None, help="the app's inbound SMS webhook")
    parser.add_argument("--callback-delay", type=float, default=0.5, help="seconds between delivery statuses")
    parser.add_argument("--no-callbacks", action="store_true", help="do not post status callbacks")
    parser.add_argument(
        "--landline", action="append", default=[], metavar="NUMBER", help="answer 21614 for this number"
    )
    parser.add_argument(
        "--unreachable",
        action="append",
        default=[],
        metavar="NUMBER[:CODE]",
        help="end messages to NUMBER undelivered (default 30003)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    parser.add_argument(
        "--server",
        choices=("gunicorn", "werkzeug"),
        default="gunicorn",
        help="gunicorn keeps connections alive (faster); werkzeug runs in one thread",
    )
    args = parser.parse_args(argv)
    unreachable = {}
    for item in args.unreachable:
        number, _, code = item.partition(":")
        unreachable[number] = int(code or 30003)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s fake-twilio %(message)s")
    fake = FakeTwilio(
        account_sid=args.account_sid,
        auth_token=args.auth_token,
        inbound_url=args.inbound_url,
        callbacks=not args.no_callbacks,
        callback_delay=args.callback_delay,
        landlines=set(args.landline),
        unreachable=unreachable,
        log_requests=not args.quiet,
    )
    if args.server == "werkzeug":
        base_url = fake.start(args.host, args.port)
        log.info("serving Twilio's Messages API at %s (account %s)", base_url, args.account_sid)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            fake.stop()
        return
    _serve_with_gunicorn(fake, args.host, args.port)


def _serve_with_gunicorn(fake: FakeTwilio, host: str, port: int) -> None:
    """Serve from one gunicorn process with threads: unlike werkzeug's server it keeps connections
    alive, so a sender is not slowed by a new connection per text (the state stays in one process)."""
    from gunicorn.app.base import BaseApplication

    class FakeServer(BaseApplication):
        def load_config(self):
            for key, value in {
                "bind": f"{host}:{port}",
                "workers": 1,
                "worker_class": "gthread",
                "threads": 16,
                "keepalive": 30,
                "accesslog": None,
                "loglevel": "warning",
            }.items():
                self.cfg.set(key, value)

        def load(self):
            fake._start_workers()  # callback threads live in the serving process
            log.info("serving Twilio's Messages API at http://%s:%s", host, port)
            return fake

    FakeServer().run()


if __name__ == "__main__":
    main()
