"""What the resource modules of the fake Twilio share: FakeTwilio's state and the methods they call on each other.

Each resource (messages, callbacks, faults, inbound) is a mixin of FakeTwilio; subclassing `Host` declares
what a mixin may use of the others, so each module type-checks on its own. FakeTwilio sets the state in
its `__init__` (server.py) and inherits the methods from the mixins.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Protocol

import requests
from twilio.request_validator import RequestValidator

from bot.demo.fake_twilio.errors import Fault, TwilioError


class Host(Protocol):
    """FakeTwilio as its resources see it."""

    account_sid: str
    auth_token: str
    inbound_url: str | None
    callbacks: bool
    callback_delay: float
    landlines: set[str]
    unreachable: dict[str, int]
    service_number: str
    now: Callable[[], datetime]
    validator: RequestValidator

    _lock: threading.Lock
    _by_sid: dict[str, dict]
    _order: list[str]
    _callback_urls: dict[str, str]
    _opted_out: set[str]
    blocks_opted_out: bool
    _faults: list[Fault]
    _creates: int
    _stopping: threading.Event
    _timer_cond: threading.Condition
    _timers: list[tuple[float, int, str, str]]
    _timer_seq: itertools.count[int]
    _pool: ThreadPoolExecutor | None
    _local: threading.local
    _sessions: list[requests.Session]

    def get(self, sid: str) -> dict | None: ...  # server.py

    def opt_out(self, number: str) -> None: ...  # server.py

    def opt_in(self, number: str) -> None: ...  # server.py

    def _schedule(self, sid: str, status: str, delay: float | None = None) -> None: ...  # callbacks.py

    def _session(self) -> requests.Session: ...  # callbacks.py

    def _next_fault(self, on: str) -> Fault | None: ...  # faults.py

    def _wait(self, seconds: float) -> None: ...  # faults.py

    def _fault_error(self, status: int) -> TwilioError: ...  # faults.py

    def _validate_and_store(self, to, from_, service_sid, body, status_callback) -> dict: ...  # messages.py

    def _resource(self, sid, to, from_, body, status, direction, segments, service_sid, now) -> dict: ...  # messages.py
