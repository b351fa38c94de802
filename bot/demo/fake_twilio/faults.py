"""Fault injection: make the next create or list requests fail or hang, as Twilio sometimes does."""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from bot.demo.fake_twilio.errors import Fault, TwilioError, json_response
from bot.demo.fake_twilio.host import Host


class FaultInjection(Host):
    """The fault half of FakeTwilio (its state, `_faults` under `_lock`, lives there)."""

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

    @staticmethod
    def _fault_error(status: int) -> TwilioError:
        if status == 429:
            return TwilioError(429, 20429, "Too Many Requests")
        return TwilioError(status, 20000 + status, "Internal Server Error" if status == 500 else "Service Unavailable")

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
        return json_response({"faults": pending}, 201)
