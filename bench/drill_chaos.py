"""The drill's chaos: kill workers, flush Redis, drop database connections, make Twilio, SMTP and the LLM fail.

A seeded schedule: every few seconds one to three faults at once (alone and together), each
logged with its time so the report can say what happened. The workers run under a small
supervisor (as systemd would run them) that restarts a dead one.
"""

from __future__ import annotations

import random
import signal
import sys
import threading
import time
from pathlib import Path

from bench.webhook import _reap, _spawn, _stop
from fakes import openai_server

TWILIO_STATUSES = (429, 500, 502, 503, 504)
LLM_MODES = ("down", "error_500", "rate_limited", "timeout", "malformed", "wrong")
"""How the fake LLM misbehaves; "down" is its state between faults too (the local classifier decides)."""
RESTART_AFTER_S = (0.5, 3.0)
"""A killed worker comes back after this many seconds (a supervisor's restart delay)."""


class Workers:
    """N `worker.py` processes on the fast clock, restarted when they die."""

    def __init__(self, count: int, env: dict, log_dir: Path):
        self.env = env
        self.log_dir = log_dir
        self.processes: list = [None] * count
        self.started = 0
        self.kills = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._supervise, name="drill-supervisor", daemon=True)

    def _start(self, slot: int) -> None:
        self.processes[slot] = _spawn(
            [sys.executable, "-m", "bench.drill_worker"], self.env, self.log_dir / f"worker-{slot}.log"
        )
        self.started += 1

    def __enter__(self) -> Workers:
        for slot in range(len(self.processes)):
            self._start(slot)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)
        for process in self.processes:
            if process is not None:
                _stop(process, grace_s=10)

    def _supervise(self) -> None:
        down_since: dict[int, float] = {}
        while not self._stop.wait(0.2):
            with self._lock:
                for slot, process in enumerate(self.processes):
                    if process is not None and not _reap(process):
                        continue
                    down_since.setdefault(slot, time.monotonic() + random.uniform(*RESTART_AFTER_S))
                    if time.monotonic() >= down_since[slot]:
                        del down_since[slot]
                        self._start(slot)

    def kill_one(self, rng: random.Random) -> None:
        with self._lock:
            alive = [p for p in self.processes if p is not None and p.returncode is None]
            if alive:
                victim = rng.choice(alive)
                try:
                    victim.send_signal(signal.SIGKILL)
                    self.kills += 1
                except ProcessLookupError:
                    pass


class Chaos:
    """Applies the seeded fault schedule until stopped; `events` says what it did and when."""

    def __init__(self, *, rng, workers, redis_url, database_url, fake_twilio, fake_llm, smtp, interval_s=4.0):
        self.rng = rng
        self.workers = workers
        self.redis_url = redis_url
        self.database_url = database_url
        self.twilio = fake_twilio
        self.llm = fake_llm
        self.smtp = smtp
        self.interval_s = interval_s
        self.events: list[tuple[float, str]] = []
        self.counts: dict[str, int] = {}
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="drill-chaos", daemon=True)
        self.postgres = database_url.startswith("postgresql")

    def start(self) -> Chaos:
        self.set_llm("down")
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop injecting and take back every fault still pending, so the system can settle."""
        self._stop.set()
        self._thread.join(30)
        self.clear()

    def clear(self) -> None:
        with self.twilio._lock:  # the fake has no endpoint to drop pending faults but /_fake/reset
            self.twilio._faults.clear()
        self.smtp.clear_faults()
        self.set_llm("down")

    # ----------------------------------------------------------------- faults

    def _note(self, what: str, kind: str) -> None:
        self.events.append((round(time.monotonic() - self._started, 1), what))
        self.counts[kind] = self.counts.get(kind, 0) + 1

    def kill_worker(self) -> None:
        self.workers.kill_one(self.rng)
        self._note("SIGKILL a worker", "worker SIGKILL")

    def flush_redis(self) -> None:
        from redis import Redis

        client = Redis.from_url(self.redis_url)
        try:
            client.flushdb()
        finally:
            client.close()
        self._note("Redis FLUSHDB", "Redis FLUSHDB")

    def drop_connections(self) -> None:
        if not self.postgres:  # SQLite has no connections to drop: kill a worker instead
            return self.kill_worker()
        from sqlalchemy import create_engine, text

        engine = create_engine(self.database_url, pool_size=1)
        try:
            with engine.connect() as connection:
                dropped = connection.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).scalar()
        finally:
            engine.dispose()
        self._note(f"pg_terminate_backend x{dropped}", "PostgreSQL connections terminated")

    def twilio_fault(self) -> None:
        kind = self.rng.choice(("status", "status", "after_store", "delay", "list"))
        times = self.rng.randint(1, 6)
        if kind == "list":
            self.twilio.inject(status=500, times=times, on="list")
            self._note(f"Twilio list 500 x{times}", "Twilio list look-up failure")
        elif kind == "delay":
            seconds = self.rng.choice((2.0, 12.0))
            self.twilio.inject(delay=seconds, after_store=self.rng.random() < 0.5, times=times)
            self._note(f"Twilio delay {seconds:g}s x{times}", "Twilio delay")
        else:
            status = self.rng.choice(TWILIO_STATUSES if kind == "status" else (500, 502, 503, 504))
            self.twilio.inject(status=status, after_store=kind == "after_store", times=times)
            label = "after store" if kind == "after_store" else "before store"
            self._note(f"Twilio {status} {label} x{times}", f"Twilio {status if status == 429 else '5xx'} {label}")

    def smtp_fault(self) -> None:
        kind = self.rng.choice(("refuse", "drop", "after_store"))
        times = self.rng.randint(1, 3)
        self.smtp.inject(kind, times)
        self._note(f"SMTP {kind} x{times}", f"SMTP {kind}")

    def set_llm(self, mode: str) -> None:
        reply = {
            "down": openai_server.status(503)[0],
            "error_500": openai_server.status(500)[0],
            "rate_limited": openai_server.status(429)[0],
            "timeout": openai_server.delay(3.0),
            "malformed": openai_server.raw("not json at all"),
            "wrong": openai_server.answer(openai_server.DEFAULT_ANSWER),  # "other", urgency none, for everything
        }[mode]
        with self.llm._lock:
            self.llm.default = reply

    def llm_fault(self) -> None:
        mode = self.rng.choice(LLM_MODES[1:])
        self.set_llm(mode)
        self._note(f"LLM {mode}", f"LLM {mode}")

    # ---------------------------------------------------------------- schedule

    def _run(self) -> None:
        faults = (
            (self.kill_worker, 3),
            (self.flush_redis, 1),
            (self.drop_connections, 2),
            (self.twilio_fault, 5),
            (self.smtp_fault, 1),
            (self.llm_fault, 2),
        )
        actions, weights = zip(*faults, strict=True)
        while not self._stop.wait(self.rng.uniform(0.5, 1.5) * self.interval_s):
            for action in self.rng.choices(actions, weights, k=self.rng.choice((1, 1, 2, 3))):
                try:
                    action()
                except Exception as exc:  # a fault that could not be applied is reported, not fatal
                    self._note(f"{action.__name__} failed: {type(exc).__name__}", "chaos errors")
