"""RQ worker entry: listens on Aftercare's queues, runs RQ's scheduler, and ticks the touch dispatcher.

python worker.py            # one worker; start as many as needed, on any host
"""

from __future__ import annotations

import logging
import threading

from rq import SimpleWorker
from sqlmodel import select

import bot.conversation.processing  # noqa: F401  (job module: imported before the first job, see preload)
from bot import runtime
from bot.conversation.inbound import requeue_unprocessed
from bot.errors import ConfigError
from bot.growth.attribution import refresh as refresh_offers
from bot.growth.moments import plan_offers
from bot.messaging import outbox
from bot.messaging.delivery import apply_early_statuses, reconcile_stale
from bot.messaging.transport import SmsTransport
from bot.queue import QUEUES, AftercareJob, get_queue, redis_connection
from bot.staff import handover, paging, reports
from bot.touches.dispatch import tick
from bot.touches.planner import plan_birthdays as plan
from bot.touches.plans import plans_for
from bot.understanding.local_classifier import load_model
from store.db import session_scope
from store.models import Practice

log = logging.getLogger("aftercare.worker")

TICK_SECONDS = 15
"""How often each worker claims due touches and re-enqueues lost work."""

STATUS_SWEEP_TICKS = 20
"""Every this many ticks (5 min), fetch the status of texts whose callbacks never came."""

BIRTHDAY_TICKS = 240
"""Every this many ticks (1 h), plan the coming week's birthday texts."""

REPORT_TICKS = 240
"""Every this many ticks (1 h), mail last month's report for practices whose month began (once each)."""


def plan_birthdays() -> int:
    """Plan upcoming birthday touches; one worker at a time (a Redis lock), returns how many were planned."""
    lock = redis_connection(runtime.settings()).lock("aftercare:lock:plan-birthdays", timeout=600)
    if not lock.acquire(blocking=False):
        return 0
    try:
        with session_scope(runtime.db_url()) as session:
            created = len(plan(session))
    finally:
        lock.release()
    if created:
        log.info("planned %d birthday text(s)", created)
    return created


def plan_growth() -> int:
    """Plan the offer moments due soon and bring offers' results up to date; one worker at a time."""
    lock = redis_connection(runtime.settings()).lock("aftercare:lock:plan-offers", timeout=600)
    if not lock.acquire(blocking=False):
        return 0
    try:
        with session_scope(runtime.db_url()) as session:
            now = runtime.clock().now()
            created = len(plan_offers(session, now))
            for practice_id in session.exec(select(Practice.id)):
                refresh_offers(session, practice_id, now)
    finally:
        lock.release()
    if created:
        log.info("planned %d offer(s)", created)
    return created


def tick_once(count: int) -> None:
    """One round of periodic work; every step is safe to run on many workers at once."""
    steps = (
        [tick, requeue_unprocessed, paging.sweep, handover.sweep, outbox.sweep, apply_early_statuses]
        + ([plan_birthdays, plan_growth] if count % BIRTHDAY_TICKS == 0 else [])
        + ([reports.send_due] if count % REPORT_TICKS == 0 else [])
    )
    for step in steps:
        try:
            step()
        except Exception:  # keep ticking; the next tick retries what this one missed
            log.exception("%s failed", step.__name__)
    if count % STATUS_SWEEP_TICKS == 0:
        try:
            with SmsTransport(runtime.settings()) as transport:
                reconcile_stale(transport)
        except Exception:
            log.exception("status sweep failed")


def tick_forever(stop: threading.Event) -> None:
    """Run tick_once every TICK_SECONDS until told to stop."""
    count = 0
    while not stop.is_set():
        tick_once(count)
        count += 1
        stop.wait(TICK_SECONDS)


def preload() -> None:
    """Read the plans and load the classifier's model before the first job and before the tick thread
    starts, so neither pays for them mid-work. (The job modules are imported with this one, at the top.)"""
    plans_for(runtime.settings())
    load_model()


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("urllib3").setLevel(logging.WARNING)  # its DEBUG lines carry phone numbers in URLs
    try:
        settings = runtime.configure()
        settings.require_secrets()
    except ConfigError as error:
        log.error("configuration error: %s", error)
        return 2
    connection = redis_connection(settings)
    queues = [get_queue(name, settings) for name in QUEUES]
    preload()
    stop = threading.Event()
    ticker = threading.Thread(target=tick_forever, args=(stop,), name="aftercare-tick", daemon=True)
    ticker.start()
    try:
        # Jobs run in this process (no fork per job): a forked work horse starts with cold caches
        # (ORM mappers, compiled SQL, connections) and managed about 10 jobs/s here against ~50 in
        # process. Run workers under a supervisor (systemd, Kubernetes) that restarts a dead one.
        SimpleWorker(queues, connection=connection, job_class=AftercareJob).work(with_scheduler=True)
    finally:
        stop.set()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
