"""`make drill`: scripted patients through the whole stack under chaos, then an audit of what happened.

    python -m bench.drill                        # 500 patients, PostgreSQL/Redis when configured
    python -m bench.drill --patients 50 --seed 7 --strict

The stack is gunicorn serving app:create_app(), two `worker.py` processes on a fast tick
(bench/drill_worker.py), a migrated throwaway database and a flushed Redis (as `make bench`
prepares them: db 6 of REDIS_URL here), the fake Twilio and the fake LLM in this process and
the fake SMTP server (fakes/smtp_server.py). The patients (bench/drill_patients.py) play their
scripts while the chaos driver (bench/drill_chaos.py) kills workers, flushes Redis, drops
database connections and makes Twilio, SMTP and the LLM fail; then the chaos stops, the system
gets time to settle, and the audit (bench/drill_audit.py) prints a table and writes
.bench/drill.json. `--strict` exits 1 when a figure that must be zero is not.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import bench.__main__ as bench_main
from bench import drill_audit, webhook
from bench.drill_chaos import Chaos, Workers
from bench.drill_patients import (
    BACKUP_PHONE,
    ON_CALL_PHONE,
    PRACTICE_NUMBER,
    Ledger,
    Patients,
    cast,
    post_appointments,
)
from fakes.smtp_server import FakeSmtp

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / ".bench"

PG_SCHEMA = "aftercare_drill"
"""The PostgreSQL schema the drill creates, migrates, and drops."""
REDIS_DB = 6
"""The Redis database index the drill uses (and flushes) when REDIS_URL is given."""
WORKERS = 2
"""RQ worker processes."""
TICK_S = 2.0
"""The workers' tick on the drill's fast clock (15 s in production)."""
APPOINTMENTS_SECRET = "drill-appointments-secret"
LLM_TIMEOUT_S = 1.0
"""The LLM's timeout in the drill: short, so the fake's 3-second stalls are timeouts."""


def seed_practice(database_url: str) -> None:
    """The practice the appointments join: its texting number, a provider who works every day,
    on-call and backup staff with phones and email; quiet hours open all day so the drill runs at any hour."""
    from store.db import dispose_all, session_scope
    from store.models import Location, Practice, Provider, StaffUser

    hours = {d: ["09:00", "17:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    with session_scope(database_url) as session:
        practice = Practice(
            name="Drill Med Spa",
            slug="drill",
            phone="(512) 555-0100",
            emergency_line="(512) 555-0199",
            quiet_start_hour=0,
            quiet_end_hour=24,
            facts={"sender_name": "Maya"},
        )
        session.add(practice)
        session.flush()
        location = Location(
            practice_id=practice.id,
            external_id="L-1",
            name="Main",
            timezone="America/Chicago",
            sms_number=PRACTICE_NUMBER,
        )
        session.add(location)
        session.flush()
        session.add(
            Provider(
                practice_id=practice.id, location_id=location.id, external_id="P-1", name="Dr. Lee", working_hours=hours
            )
        )
        session.add_all(
            [
                StaffUser(
                    practice_id=practice.id,
                    name="Nurse On-Call",
                    role="nurse",
                    phone=ON_CALL_PHONE,
                    email="oncall@drill.example",
                    on_call=True,
                ),
                StaffUser(practice_id=practice.id, name="Dr. Backup", role="injector", phone=BACKUP_PHONE, backup=True),
                StaffUser(practice_id=practice.id, name="Manager", role="manager", email="manager@drill.example"),
            ]
        )
    dispose_all()


def quiet(database_url: str) -> dict:
    """What still moves: touches queued or sending, inbound texts not processed, outbound texts not handed over."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return {
                "touches in flight": connection.execute(
                    text("SELECT count(*) FROM touch WHERE status IN ('queued', 'sending')")
                ).scalar(),
                "touches due": connection.execute(
                    text("SELECT count(*) FROM touch WHERE status = 'scheduled' AND due_at <= :now"),
                    {"now": datetime.now(UTC)},
                ).scalar(),
                "inbound unprocessed": connection.execute(
                    text("SELECT count(*) FROM message WHERE direction = 'in' AND processed_at IS NULL")
                ).scalar(),
                "outbox pending": connection.execute(
                    text("SELECT count(*) FROM message WHERE status IN ('pending', 'transmitting')")
                ).scalar(),
            }
    finally:
        engine.dispose()


def settle(database_url: str, seconds: float) -> tuple[float, dict]:
    """Wait (up to `seconds`) until nothing moves; returns how long it took and what still moved."""
    started = time.monotonic()
    left: dict = {}
    while time.monotonic() - started < seconds:
        try:
            left = quiet(database_url)
        except Exception as exc:  # the database may still be recovering
            left = {"error": type(exc).__name__}
        if left and not any(left.values()):
            break
        time.sleep(2)
    return time.monotonic() - started, left


def _terminate(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.drill", description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=500, help="scripted patients (default 500)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the scripts and the chaos")
    parser.add_argument("--active", type=float, default=None, help="seconds the patients and the chaos run")
    parser.add_argument("--settle", type=float, default=150.0, help="seconds given to settle after the chaos")
    parser.add_argument("--workers", type=int, default=WORKERS, help="RQ worker processes (at least 2)")
    parser.add_argument("--no-chaos", action="store_true", help="the patients alone, as a baseline")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a figure that must be zero is not")
    args = parser.parse_args(argv)
    active_s = args.active or max(40.0, min(180.0, args.patients * 0.3))

    signal.signal(signal.SIGTERM, _terminate)
    OUT.mkdir(exist_ok=True)
    run_dir = OUT / f"drill-{os.getpid()}"
    run_dir.mkdir()
    logs = run_dir / "logs"
    logs.mkdir()
    started = time.monotonic()
    rng = random.Random(args.seed)
    ledger = Ledger()
    try:
        with ExitStack() as stack:
            stack.callback(shutil.rmtree, run_dir, True)
            bench_main.PG_SCHEMA = PG_SCHEMA
            os.environ.setdefault("AFTERCARE_BENCH_REDIS_DB", str(REDIS_DB))
            database_url, database_label = bench_main.prepare_database(stack, run_dir)
            redis_url, redis_label = bench_main.prepare_redis(stack, run_dir)
            print(f"drill: database: {database_label}\ndrill: redis:    {redis_label}", flush=True)
            seed_practice(database_url)

            from bot.demo.fake_twilio import FakeTwilio
            from fakes.openai_server import FakeOpenAI

            server = webhook.Server(bench_main.child_environment(database_url, redis_url, run_dir), logs / "web.log")
            public = f"http://127.0.0.1:{server.port}"
            fake = FakeTwilio(auth_token=webhook.AUTH_TOKEN, inbound_url=public + "/sms/inbound", callback_delay=0.3)
            fake.start()
            stack.callback(fake.stop)
            llm = FakeOpenAI().start()
            stack.callback(llm.stop)
            smtp = stack.enter_context(FakeSmtp())
            env = dict(
                bench_main.child_environment(database_url, redis_url, run_dir),
                PUBLIC_BASE_URL=public,
                TWILIO_API_BASE_URL=fake.base_url,
                TWILIO_ACCOUNT_SID=fake.account_sid,
                TWILIO_AUTH_TOKEN=webhook.AUTH_TOKEN,
                TWILIO_FROM_NUMBER=PRACTICE_NUMBER,
                OPENAI_API_KEY="drill-key",
                OPENAI_BASE_URL=llm.base_url,
                OPENAI_TIMEOUT_S=str(LLM_TIMEOUT_S),
                SMTP_URL=smtp.url,
                APPOINTMENTS_WEBHOOK_SECRET=APPOINTMENTS_SECRET,
                AFTERCARE_PACING="false",
                AFTERCARE_DRILL_TICK_S=str(TICK_S),
            )
            server.env = dict(env, AFTERCARE_BENCH_ENDPOINTS="1")
            stack.enter_context(server)
            workers = stack.enter_context(Workers(max(2, args.workers), env, logs))

            patients = cast(args.patients, args.seed, active_s)
            print(f"drill: {args.patients} patients, seed {args.seed}: posting their visits ...", flush=True)
            post_appointments(public, APPOINTMENTS_SECRET, patients, ledger)
            chaos = Chaos(
                rng=rng,
                workers=workers,
                redis_url=redis_url,
                database_url=database_url,
                fake_twilio=fake,
                fake_llm=llm,
                smtp=smtp,
            )
            if not args.no_chaos:
                chaos.start()
            print(
                f"drill: patients texting{'' if args.no_chaos else ' under chaos'} for ~{active_s:.0f} s ...",
                flush=True,
            )
            Patients(fake, public, webhook.AUTH_TOKEN, ledger, args.seed).run(patients)
            if not args.no_chaos:
                chaos.stop()
            print(f"drill: chaos stopped; settling (up to {args.settle:g} s) ...", flush=True)
            settled_s, still = settle(database_url, args.settle)
            time.sleep(3)  # the last status callbacks
            from store.db import dispose_all, session_scope

            with session_scope(database_url) as session:
                results = drill_audit.audit(
                    session, ledger, fake.messages, list(smtp.mails), sorted(logs.glob("*.log"))
                )
            dispose_all()
            results["run"] = {
                "at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "patients": args.patients,
                "seed": args.seed,
                "database": database_label,
                "redis": redis_label,
                "workers": max(2, args.workers),
                "worker_starts": workers.started,
                "active_s": round(active_s, 1),
                "settled_s": round(settled_s, 1),
                "still_moving": still,
                "appointments_failed": ledger.appointments_failed,
                "chaos": dict(sorted(chaos.counts.items())),
                "seconds": round(time.monotonic() - started, 1),
            }
            if os.environ.get("AFTERCARE_DRILL_KEEP_LOGS"):
                shutil.copytree(logs, OUT / "drill-logs", dirs_exist_ok=True)
    except KeyboardInterrupt:
        print("\ndrill: interrupted; servers stopped, drill database and Redis cleaned up")
        return 130
    (OUT / "drill.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    print_report(results)
    print(f"\n  wrote {(OUT / 'drill.json').relative_to(ROOT)} in {results['run']['seconds']:.0f} s")
    broken = {k: v for k, v in results["invariants"].items() if v}
    return 1 if args.strict and broken else 0


def print_report(results: dict) -> None:
    run = results["run"]
    print()
    print(f"Aftercare drill, {run['at']}: {run['patients']} patients, seed {run['seed']}, {run['workers']} workers")
    print(f"  database: {run['database']}\n  redis:    {run['redis']}")
    chaos = ", ".join(f"{k} {v}" for k, v in run["chaos"].items()) or "none"
    print(f"  chaos:    {chaos}")
    print(f"  active {run['active_s']:.0f} s, settled in {run['settled_s']:.0f} s; still moving: {run['still_moving']}")
    print()
    for line in drill_audit.table(results):
        print(line)
    print()
    for label, value in results["invariants"].items():
        print(f"  {'ok  ' if not value else 'FAIL'} {label}: {value}")


if __name__ == "__main__":
    raise SystemExit(main())
