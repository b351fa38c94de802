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


def tick_forever(stop: threading.Event) -> None:
    """Claim due work every TICK_SECONDS; any number of workers may do this at once."""
    from bot.dispatch import tick

    while not stop.is_set():
        try:
            tick()
        except Exception:  # keep ticking; the next tick retries what this one missed
            log.exception("tick failed")
        stop.wait(TICK_SECONDS)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = runtime.configure()
    connection = redis_connection(settings)
    queues = [get_queue(name, settings) for name in QUEUES]
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
