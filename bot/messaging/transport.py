"""Outbound SMS through Twilio (or anything that speaks its Messages API).

Sending is not idempotent: Twilio has no idempotency key, so a blind retry
after a 500 or a read timeout can text a patient twice. The rules here:

- 429 (error 20429) was not processed: retry with backoff.
- The request never left (connection refused, DNS, connect timeout): retry.
- 5xx: Twilio answered, so it may have stored the message. Look it up (To,
  From, DateSent, exact body) and adopt its SID; resend only when it is not there.
- Read timeout, connection dropped mid-request: no answer, so the create may
  still be on its way in. Look it up and adopt it if found; otherwise the
  outcome is unknown (AmbiguousSendError) and only a later look-up, by the
  sweeps, may decide to send again.
- Any other 4xx is final (21211 bad number, 21610 opted out, ...).
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit

import requests
from requests.auth import _basic_auth_str
from requests.structures import CaseInsensitiveDict
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from bot import runtime
from bot.clock import SYSTEM_CLOCK, to_utc
from bot.errors import AmbiguousSendError, TransportError
from bot.messaging.phones import mask as mask_phone

log = logging.getLogger(__name__)

__all__ = ["SendResult", "SmsTransport", "mask_phone"]

HTTP_TIMEOUT_S = 10.0
"""Seconds the Twilio client waits to connect and for each read."""

MAX_ATTEMPTS = 4
"""Create requests per send, the first one included."""

LOOKUP_WINDOW = timedelta(minutes=1)
"""How far before an attempt a message found at Twilio may be dated (clock skew)."""


@dataclass
class SendResult:
    """What Twilio said about a message we sent (or found it had already)."""

    sid: str
    status: str
    num_segments: int | None
    adopted: bool = False


class _Retry(Exception):
    """An attempt failed in a way another attempt could fix."""

    def __init__(self, reason: str, code: int | None = None, status: int | None = None):
        super().__init__(reason)
        self.code, self.status = code, status


class QuietHttpClient(TwilioHttpClient):
    """The SDK's HTTP client on its one keep-alive session, minus the per-call work that is the same every time.

    The stock client logs query parameters (phone numbers) at INFO; this one logs nothing. Its request()
    also runs all of `requests`' preparation per call (session, cookie and environment settings merged,
    Basic auth encoded again, the form encoded through runtime-checked protocols): most of a text's CPU.
    Here a form-encoded call is prepared directly and handed to the session's own adapter, so the
    connection pool, timeouts and the exceptions the retry rules read (`requests.ConnectTimeout`,
    `ConnectionError`, `ReadTimeout`) are exactly those of `requests`. Anything else (JSON bodies,
    redirects followed) goes the stock way.
    """

    def __init__(self, timeout: float | None = None, proxy: dict | None = None):
        super().__init__(timeout=timeout, proxy=proxy)
        self._authorizations: dict[tuple, str] = {}
        self._environments: dict[tuple[str, str], dict] = {}

    def log_request(self, kwargs):
        pass

    def log_response(self, status_code, response):
        pass

    def request(
        self, method, url, params=None, data=None, headers=None, auth=None, timeout=None, allow_redirects=False
    ):
        headers = headers or {}
        content_type = headers.get("Content-Type")
        if self.session is None or allow_redirects or content_type not in (None, "application/x-www-form-urlencoded"):
            return super().request(method, url, params, data, headers, auth, timeout, allow_redirects)
        if timeout is None:
            timeout = self.timeout
        elif timeout <= 0:
            raise ValueError(timeout)
        prepared = requests.PreparedRequest()
        prepared.method = method.upper()
        # doseq as `requests` does: a list value (MediaUrl, ...) becomes one field per item.
        query = urlencode(params, doseq=True) if params else ""
        prepared.url = f"{url}{'&' if '?' in url else '?'}{query}" if query else url
        merged = CaseInsensitiveDict(self.session.headers)
        merged.update(headers)
        if auth is not None:
            merged["Authorization"] = self._authorization(auth)
        body = urlencode(data, doseq=True).encode() if data else None
        if body is not None or prepared.method in ("POST", "PUT", "PATCH"):
            merged["Content-Length"] = str(len(body or b""))
        prepared.headers = merged
        prepared.body = body
        prepared.hooks = {"response": []}
        self._test_only_last_response = None
        sending = self._environment(url)
        response = self.session.get_adapter(prepared.url).send(
            prepared,
            stream=False,
            timeout=timeout,
            verify=sending["verify"],
            cert=sending["cert"],
            proxies=sending["proxies"],
        )
        self._test_only_last_response = Response(int(response.status_code), response.text, response.headers)
        return self._test_only_last_response

    def _environment(self, url: str) -> dict:
        """Proxies, CA bundle and client certificate for this host as `requests` would merge them (the
        client's own proxy, then HTTPS_PROXY / NO_PROXY / REQUESTS_CA_BUNDLE from the environment), once
        per scheme and host: a deployment behind an egress proxy sends through it."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        found = self._environments.get(key)
        if found is None:
            assert self.session is not None
            found = self._environments[key] = self.session.merge_environment_settings(
                url, dict(self.proxy or {}), False, self.session.verify, self.session.cert
            )
        return found

    def _authorization(self, auth: tuple) -> str:
        """The Basic header for these credentials, encoded once (as `requests` encodes it)."""
        found = self._authorizations.get(auth)
        if found is None:
            found = self._authorizations[auth] = _basic_auth_str(*auth)
        return found


def _never_sent(error: requests.RequestException) -> bool:
    """True when the request provably did not reach the server."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    if isinstance(error, requests.ConnectionError) and error.args:
        cause = error.args[0]
        if isinstance(cause, MaxRetryError):
            cause = cause.reason
        return isinstance(cause, (NewConnectionError, ConnectTimeoutError))
    return False


def _scrub(text: str) -> str:
    """Twilio's error messages quote the number; errors end up in logs, so mask it."""
    return _PHONE_LIKE.sub(lambda match: mask_phone(match.group()), str(text))


_PHONE_LIKE = re.compile(r"\+?\d[\d ().-]{5,}\d")


def _segments(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class SmsTransport:
    """One client for outbound texts; see the module docstring for the retry rules.

    Arguments:
        settings: Twilio credentials, base URL and default sender.
        clock: object with `now()`; decides whether `not_before` has passed.
        wait: a tenacity wait strategy between attempts (tests pass `wait_none()`).
        attempts: create requests per send, the first one included.
        timeout: seconds to connect and per read.
    """

    def __init__(
        self, settings, clock=None, *, wait=None, attempts: int = MAX_ATTEMPTS, timeout: float = HTTP_TIMEOUT_S
    ):
        self.settings = settings
        self.clock = clock or SYSTEM_CLOCK
        self.wait = wait if wait is not None else wait_exponential_jitter(multiplier=0.5, max=4.0, jitter=0.5)
        self.attempts = attempts
        # Proxy variables (HTTPS_PROXY, NO_PROXY) are read once, for the one API this client calls:
        # left to requests, they are re-read from the environment on every request.
        base = settings.twilio_api_base_url or "https://api.twilio.com"
        self.http = QuietHttpClient(timeout=timeout, proxy=requests.utils.get_environ_proxies(base) or None)
        self.http.session.trust_env = False
        self.client = Client(settings.twilio_account_sid, settings.twilio_auth_token, http_client=self.http)
        if settings.twilio_api_base_url:
            # Every Messages call resolves its URL against this domain at request time.
            self.client.api.base_url = settings.twilio_api_base_url.rstrip("/")

    def close(self) -> None:
        """Close pooled connections."""
        if self.http.session is not None:
            self.http.session.close()

    def __enter__(self) -> SmsTransport:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ send

    def send(
        self,
        to: str,
        body: str,
        from_: str | None = None,
        status_callback: str | None = None,
        messaging_service_sid: str | None = None,
        not_before: datetime | None = None,
    ) -> SendResult:
        """Send one text; at most one message reaches Twilio whatever fails on the way.

        Raises TransportError(permanent=True, code, status) when Twilio refused
        the message, TransportError(permanent=False) when retries ran out, and
        AmbiguousSendError when Twilio may hold the message but could not be
        asked: call `find_sent()` before sending it again.
        """
        if not_before is not None and self.clock.now() < to_utc(not_before):
            raise TransportError(f"not before {to_utc(not_before).isoformat()}", permanent=False)
        sender = self._sender(from_, messaging_service_sid)
        # Compared with Twilio's own timestamps, so this is wall time, not the injectable clock.
        since = datetime.now(UTC) - LOOKUP_WINDOW
        unresolved = False  # an earlier attempt may have reached Twilio

        def attempt() -> SendResult:
            nonlocal unresolved
            if unresolved:
                found = self._resolve(to, body, sender, since)
                if found:
                    return found
                unresolved = False
            try:
                message = self.client.messages.create(to=to, body=body, status_callback=status_callback, **sender)
            except TwilioRestException as error:
                if error.status == 429 or error.code == 20429:
                    raise _Retry("rate limited (20429)", error.code, error.status) from error
                if error.status < 500:
                    raise TransportError(
                        f"Twilio refused the text to {mask_phone(to)}: {error.code} {_scrub(error.msg)}",
                        permanent=True,
                        code=error.code,
                        status=error.status,
                    ) from error
                unresolved = True
                reason = f"Twilio answered {error.status}"
            except requests.RequestException as error:
                if _never_sent(error):
                    raise _Retry(f"could not reach Twilio ({type(error).__name__})") from error
                unresolved = True
                reason = f"no answer from Twilio ({type(error).__name__})"
                # Without an answer the create may still be on its way in at Twilio: a look-up now that
                # finds nothing proves nothing, so only a later look-up (the sweeps) may send again.
                found = self._resolve(to, body, sender, since)
                if found:
                    return found
                raise AmbiguousSendError(
                    f"text to {mask_phone(to)} may still reach Twilio: {reason}", permanent=False
                ) from error
            else:
                log.info("sms to %s sent: %s (%s segments)", mask_phone(to), message.sid, message.num_segments)
                return SendResult(message.sid, message.status, _segments(message.num_segments), adopted=False)
            log.warning("sms to %s: %s; looking it up before any resend", mask_phone(to), reason)
            found = self._resolve(to, body, sender, since)
            if found:
                return found
            unresolved = False
            raise _Retry(reason)

        try:
            return self._retrying(attempt)
        except _Retry as error:
            if unresolved:
                raise AmbiguousSendError(
                    f"text to {mask_phone(to)} may have been sent; Twilio could not confirm: {error}",
                    permanent=False,
                    code=error.code,
                    status=error.status,
                ) from error
            raise TransportError(
                f"text to {mask_phone(to)} not sent after {self.attempts} attempts: {error}",
                permanent=False,
                code=error.code,
                status=error.status,
            ) from error

    def _sender(self, from_, messaging_service_sid) -> dict:
        """The sender fields for a create: an explicit number wins over any messaging service."""
        if from_:
            return {"from_": from_}
        service = messaging_service_sid or self.settings.twilio_messaging_service_sid
        if service:
            return {"messaging_service_sid": service}
        if self.settings.twilio_from_number:
            return {"from_": self.settings.twilio_from_number}
        raise TransportError("no sender: set TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID", permanent=True)

    def _retrying(self, fn):
        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=self.wait,
            retry=retry_if_exception_type(_Retry),
            reraise=True,
            before_sleep=lambda state: log.info(
                "retrying sms (attempt %d): %s", state.attempt_number + 1, state.outcome.exception()
            ),
        )
        return retrying(fn)

    # ---------------------------------------------------------------- lookup

    def _resolve(self, to, body, sender, since) -> SendResult | None:
        """find_sent(), with a failed lookup counted as one more failed attempt."""
        try:
            found = self.find_sent(to, body, since, **sender)
        except TransportError as error:
            raise _Retry(f"lookup failed: {error}", error.code, error.status) from error
        if found:
            log.warning("sms to %s was already at Twilio as %s; not resending", mask_phone(to), found.sid)
        return found

    def find_sent(
        self,
        to: str,
        body: str,
        since: datetime,
        from_: str | None = None,
        messaging_service_sid: str | None = None,
    ) -> SendResult | None:
        """The message with exactly this body sent to `to` since `since`, if Twilio has it.

        Raises TransportError when Twilio cannot be asked.
        """
        since = to_utc(since)

        def matches(message) -> bool:
            if message.body != body or message.direction == "inbound":
                return False
            if messaging_service_sid and message.messaging_service_sid != messaging_service_sid:
                return False
            return message.date_created is None or message.date_created >= since.replace(microsecond=0)

        # A message still queued at Twilio has no DateSent yet, so a date-filtered
        # list can miss it; the newest few to the number are checked as well.
        queries = [{"date_sent_after": since.replace(microsecond=0)}, {}]
        try:
            for extra in queries:
                filters = {"to": to, "limit": 20, "page_size": 20, **extra}
                if from_ and not messaging_service_sid:
                    filters["from_"] = from_
                for message in self.client.messages.list(**filters):
                    if matches(message):
                        return SendResult(message.sid, message.status, _segments(message.num_segments), adopted=True)
        except TwilioRestException as error:
            raise TransportError(
                f"lookup failed: {error.status} {error.code}", permanent=False, code=error.code, status=error.status
            ) from error
        except TwilioException as error:
            # A list page that is not a 200 comes back as a bare TwilioException(message, response).
            status = getattr(error.args[1], "status_code", None) if len(error.args) > 1 else None
            raise TransportError(f"lookup failed: {status}", permanent=False, status=status) from error
        except requests.RequestException as error:
            raise TransportError(f"lookup failed: {type(error).__name__}", permanent=False) from error
        return None

    # ----------------------------------------------------------------- fetch

    def fetch(self, sid: str) -> dict:
        """A message's current state at Twilio, for status reconciliation.

        Returns {"sid", "status", "error_code", "error_message", "num_segments", "date_updated"}.
        """

        def attempt():
            try:
                message = self.client.messages(sid).fetch()
            except TwilioRestException as error:
                if error.status == 429 or error.status >= 500:
                    raise _Retry(f"Twilio answered {error.status}", error.code, error.status) from error
                raise TransportError(
                    f"cannot fetch {sid}: {error.code}", permanent=True, code=error.code, status=error.status
                ) from error
            except requests.RequestException as error:
                # Reading is safe to repeat, whatever happened to the request.
                raise _Retry(f"no answer from Twilio ({type(error).__name__})") from error
            return {
                "sid": message.sid,
                "status": message.status,
                "error_code": message.error_code,
                "error_message": message.error_message,
                "num_segments": _segments(message.num_segments),
                "date_updated": message.date_updated,
            }

        try:
            return self._retrying(attempt)
        except _Retry as error:
            raise TransportError(
                f"cannot fetch {sid}: {error}", permanent=False, code=error.code, status=error.status
            ) from error


TRANSPORT_OPTIONS: dict = {}
"""Extra keyword arguments for SmsTransport (tests shorten the retry wait)."""

_transports = threading.local()


def transport():
    """This thread's SMS transport for the current settings (reused: one connection pool per thread)."""
    settings = runtime.settings()
    key = (
        settings.twilio_api_base_url,
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        tuple(sorted(TRANSPORT_OPTIONS.items(), key=lambda kv: kv[0])).__repr__(),
    )
    cache = getattr(_transports, "by_key", None)
    if cache is None:
        cache = _transports.by_key = {}
    found = cache.get(key)
    if found is None:
        found = cache[key] = SmsTransport(settings, runtime.clock(), **TRANSPORT_OPTIONS)
    return found
