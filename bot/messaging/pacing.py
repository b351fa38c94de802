"""Per-sender throughput: every worker reserves a send slot for its number in Redis before texting.

A sending number has a fixed rate (10DLC tier, toll-free 3/s, ...); Twilio
queues the excess and fails it after hours, so a burst of 5,000 due touches
must leave at the number's pace. The next free slot per sender lives in
Redis and is advanced atomically by a Lua script, so any number of workers
on any number of hosts share one pace. Time comes from Redis (TIME), not
from each host's clock.
"""

from __future__ import annotations

from redis import Redis

MAX_WAIT_S = 5.0
"""A worker sleeps for a slot at most this long; a touch needing longer goes back to the schedule."""

KEY = "aftercare:pace:{}"

_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local max_wait = tonumber(ARGV[2])
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
if nxt < now then nxt = now end
local wait = nxt - now
if wait > max_wait then return tostring(-wait) end
redis.call('SET', KEYS[1], tostring(nxt + interval), 'PX', math.ceil((wait + interval) * 1000) + 60000)
return tostring(wait)
"""


class Pacer:
    """Slots at `mps` messages per second per sender, shared through Redis."""

    def __init__(self, connection: Redis, mps: float):
        self.connection = connection
        self.interval = 1.0 / mps
        self._script = connection.register_script(_RESERVE)

    def reserve(self, sender: str, max_wait: float = MAX_WAIT_S) -> tuple[bool, float]:
        """(True, seconds to sleep before sending) with a slot taken, or (False, seconds until one frees)."""
        wait = float(self._script(keys=[KEY.format(sender)], args=[repr(self.interval), repr(max_wait)]))
        if wait < 0:
            return False, -wait
        return True, wait
