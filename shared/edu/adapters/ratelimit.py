"""Sliding-window rate limits in Redis; fail-open when Redis is unreachable."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

# One round trip, atomic: drop hits older than the window, count, admit or refuse.
_SLIDING_WINDOW = """
local key, now, window, limit, member = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]),
                                         tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count >= limit then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return math.ceil(tonumber(oldest[2]) + window - now)
end
redis.call('ZADD', key, now, member)
redis.call('PEXPIRE', key, math.ceil(window * 1000))
return -1
"""


class RedisRateLimiter:
    def __init__(self, client: Any, *, prefix: str = "rl:",
                 on_unavailable: Callable[[Exception], None] | None = None) -> None:
        self.client = client
        self.prefix = prefix
        self.on_unavailable = on_unavailable
        self._script = client.register_script(_SLIDING_WINDOW)

    def hit(self, key: str, limit: int, window_s: int) -> int | None:
        from redis import RedisError

        try:
            wait = int(self._script(keys=[self.prefix + key],
                                    args=[time.time(), window_s, limit, uuid.uuid4().hex]))
        except (RedisError, OSError) as exc:
            if self.on_unavailable is not None:
                self.on_unavailable(exc)
            return None  # limits protect us; they must not take sign-in down with Redis
        return max(1, wait) if wait >= 0 else None

    def count(self, key: str, window_s: int) -> int:
        from redis import RedisError

        name = self.prefix + key
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.zremrangebyscore(name, "-inf", time.time() - window_s)
            pipe.zcard(name)
            return int(pipe.execute()[1])
        except (RedisError, OSError) as exc:
            if self.on_unavailable is not None:
                self.on_unavailable(exc)
            return 0

    def record(self, key: str, window_s: int) -> None:
        from redis import RedisError

        name = self.prefix + key
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.zadd(name, {uuid.uuid4().hex: time.time()})
            pipe.pexpire(name, window_s * 1000)
            pipe.execute()
        except (RedisError, OSError) as exc:
            if self.on_unavailable is not None:
                self.on_unavailable(exc)
