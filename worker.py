"""RQ worker entry: listens on Aftercare's queues, runs RQ's scheduler, and ticks the touch dispatcher.

    python worker.py            # one worker; start as many as needed, on any host
"""
from __future__ import annotations

import logging
import threading

from rq import Worker

from bot import runtime
from bot.queue import QUEUES, get_queue, redis_connection

log = logging.getLogger("aftercare.worker")

TICK_SECONDS = 15
"""How often each worker claims due touches and re-enqueues lost work."""

STATUS_SWEEP_TICKS = 20
"""Every this many ticks (5 min), fetch the status of texts whose callbacks never came."""


def tick_once(count: int) -> None:
    """One round of periodic work; every step is safe to run on many workers at once."""
    from bot.delivery import reconcile_stale
    from bot.dispatch import tick
    from bot.inbound import requeue_unprocessed
    from bot.transport import SmsTransport

    for step in (tick, requeue_unprocessed):
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
    """Import the job modules and load the classifier's model before any work horse is forked, so each
    horse inherits them instead of paying for them per job (and no horse can fork while another
    thread holds an import lock)."""
    import bot.delivery  # noqa: F401
    import bot.dispatch  # noqa: F401
    import bot.inbound  # noqa: F401
    import bot.processing  # noqa: F401
    import bot.transport  # noqa: F401
    from bot.classifier import classify
    from bot.plans import plans_for

    plans_for(runtime.settings())
    classify("thanks!", {}, runtime.settings().with_(openai_api_key=None, openai_base_url=None))


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("urllib3").setLevel(logging.WARNING)  # its DEBUG lines carry phone numbers in URLs
    settings = runtime.configure()
    connection = redis_connection(settings)
    queues = [get_queue(name, settings) for name in QUEUES]
    preload()
    stop = threading.Event()
    ticker = threading.Thread(target=tick_forever, args=(stop,), name="aftercare-tick", daemon=True)
    ticker.start()
    try:
        Worker(queues, connection=connection).work(with_scheduler=True)
    finally:
        stop.set()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
