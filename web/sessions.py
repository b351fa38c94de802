"""Staff sessions held in Redis, so the server can end them: the cookie carries only a random token.

A session ends after IDLE_MINUTES without a request or ABSOLUTE_HOURS after
sign-in, whichever comes first; signing out or changing a password ends every
session of that staff member. Losing Redis signs everyone out, which is safe.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from bot import runtime
from bot.queue import redis_connection

IDLE_MINUTES = 30
"""A session unused this long is over."""

ABSOLUTE_HOURS = 12
"""A session this old is over however busy it is: one shift."""

_SESSION = "aftercare:session:{token}"
_OF_STAFF = "aftercare:sessions-of:{staff_id}"


def _redis():
    return redis_connection(runtime.settings())


def start(staff_id: int) -> str:
    """A new session for this staff member; returns its token."""
    token = secrets.token_urlsafe(32)
    now = runtime.clock().now().timestamp()
    ttl = ABSOLUTE_HOURS * 3600
    pipe = _redis().pipeline()
    pipe.hset(_SESSION.format(token=token), mapping={"staff_id": staff_id, "started": now, "seen": now})
    pipe.expire(_SESSION.format(token=token), ttl)
    pipe.sadd(_OF_STAFF.format(staff_id=staff_id), token)
    pipe.expire(_OF_STAFF.format(staff_id=staff_id), ttl)
    pipe.execute()
    return token


def staff_of(token: str) -> int | None:
    """The staff id of a live session (and it counts as used now), or None when it is over or unknown."""
    key = _SESSION.format(token=token)
    found = _redis().hgetall(key)
    if not found:
        return None
    now = runtime.clock().now()
    started = datetime.fromtimestamp(float(found[b"started"]), now.tzinfo)
    seen = datetime.fromtimestamp(float(found[b"seen"]), now.tzinfo)
    staff_id = int(found[b"staff_id"])
    if now - seen > timedelta(minutes=IDLE_MINUTES) or now - started > timedelta(hours=ABSOLUTE_HOURS):
        _redis().delete(key)
        return None
    _redis().hset(key, "seen", now.timestamp())
    return staff_id


def end_all(staff_id: int) -> int:
    """End every session of this staff member (sign-out, password change); returns how many ended."""
    tokens = _redis().smembers(_OF_STAFF.format(staff_id=staff_id))
    pipe = _redis().pipeline()
    for token in tokens:
        pipe.delete(_SESSION.format(token=token.decode()))
    pipe.delete(_OF_STAFF.format(staff_id=staff_id))
    pipe.execute()
    return len(tokens)
