"""Delivery: each message moves queued → sent → delivered (or undelivered) on timers, with a signed
status callback posted at each step."""

from __future__ import annotations

import heapq
import logging
import time

import requests

from bot.demo.fake_twilio.host import Host
from bot.demo.fake_twilio.messages import API_VERSION, rfc2822

log = logging.getLogger("fakes.twilio")


class StatusCallbacks(Host):
    """The delivery half of FakeTwilio: timers, status changes and callbacks (its state lives there)."""

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
                message["date_updated"] = rfc2822(self.now())
                if status == "sent" and message["from"] is None:
                    message["from"] = self.service_number
                if error_code:
                    message["error_code"] = error_code
                    message["error_message"] = DELIVERY_ERRORS.get(error_code, "Delivery failed")
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


DELIVERY_ERRORS = {
    30003: "Unreachable destination handset",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
    30007: "Message filtered",
    30008: "Unknown error",
}
