"""Twilio's Messages resource: create, list with To/From/DateSent filters and paging, fetch by SID."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from bot.demo.fake_twilio.encoding import count_segments
from bot.demo.fake_twilio.errors import TwilioError, json_response
from bot.demo.fake_twilio.host import Host
from bot.demo.fake_twilio.phones import filter_number, is_phone, mask

API_VERSION = "2010-04-01"
DEFAULT_SERVICE_NUMBER = "+15005550006"
"""The number a messaging service 'picks' for messages sent through it."""

MESSAGING_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
MAX_BODY = 1600


class MessagesResource(Host):
    """The Messages half of FakeTwilio: its state (`_by_sid`, `_order`, `_callback_urls`, `_opted_out`,
    `_creates` under `_lock`) lives there, as do the faults and delivery it calls."""

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
        return json_response(message)

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
            to=filter_number(form.get("To", "")),
            from_=filter_number(form["From"]) if form.get("From") else None,
            service_sid=form.get("MessagingServiceSid"),
            body=form.get("Body"),
            status_callback=form.get("StatusCallback"),
        )
        if fault and fault.after_store:
            self._wait(fault.delay)
            if fault.status:
                raise self._fault_error(fault.status)
        return json_response(message, 201)

    def _validate_and_store(self, to, from_, service_sid, body, status_callback) -> dict:
        to = (to or "").strip()
        if not to:
            raise TwilioError(400, 21604, "A 'To' phone number is required.")
        if not is_phone(to):
            raise TwilioError(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if service_sid:
            if not MESSAGING_SERVICE_SID.match(service_sid):
                raise TwilioError(400, 21701, f"The Messaging Service Sid {service_sid} is invalid.")
        elif not from_:
            raise TwilioError(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message")
        elif not is_phone(from_):
            raise TwilioError(400, 21212, f"Invalid 'From' Phone Number: {mask(from_)}")
        if not body:
            raise TwilioError(400, 21602, "Message body is required.")
        if len(body) > MAX_BODY:
            raise TwilioError(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        if to in self.landlines:
            raise TwilioError(400, 21614, f"'To' number {mask(to)} is not a valid mobile number")
        with self._lock:
            if to in self._opted_out:
                raise TwilioError(400, 21610, "Attempt to send to unsubscribed recipient")
        segments, _ = count_segments(body)
        now = self.now().replace(microsecond=0)
        sid = new_sid()
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
        stamp = rfc2822(now)
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
            to = filter_number(args["To"])
            checks.append(lambda m: m["to"] == to)
        if "From" in args:
            from_ = filter_number(args["From"])
            checks.append(lambda m: m["from"] == from_)
        for name in ("DateSent", "DateSent>", "DateSent<"):
            if name in args:
                try:
                    checks.append(date_check(name, *parse_date_filter(args[name])))
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
        return json_response(
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


def rfc2822(moment: datetime | None) -> str | None:
    return format_datetime(moment) if moment else None


def parse_date_filter(value: str) -> tuple[datetime, bool]:
    """A DateSent filter value as (UTC moment, whether only a day was given)."""
    value = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC), True
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC), False


def new_sid() -> str:
    # Unique, not secret: os.urandom is needlessly slow on the hot path.
    return f"SM{_sids.getrandbits(128):032x}"


_sids = random.Random()


def date_check(name: str, moment: datetime, day_only: bool) -> Callable[[dict], bool]:
    """The test of a DateSent filter (`DateSent`, `DateSent>`, `DateSent<`) on a stored message."""

    def matches(at: datetime) -> bool:
        if name == "DateSent":
            return at.date() == moment.date() if day_only else at == moment
        if name == "DateSent>":  # on or after
            return at >= moment
        if day_only:  # on or before: the whole day counts
            return at < moment + timedelta(days=1)
        return at <= moment

    def check(message: dict) -> bool:
        stamp = message["date_sent"]
        return bool(stamp) and matches(datetime.strptime(stamp, "%a, %d %b %Y %H:%M:%S %z"))

    return check
