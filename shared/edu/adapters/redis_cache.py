"""Cache-aside in Redis with stampede protection, degrading to the loader when Redis is down.

Catalog pages are keyed by a generation number that every public change bumps, so stale
pages are never read again and simply expire; course-by-id keys are deleted on write.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

MISSING = "\x00none"  # cached "no such course", so misses do not hammer PostgreSQL


class RedisCache:
    def __init__(self, client: Any, *, ttl_s: int, prefix: str = "edu:",
                 on_unavailable: Callable[[Exception], None] | None = None,
                 lock_ms: int = 2000, wait_s: float = 0.5) -> None:
        self.client = client
        self.ttl_s = ttl_s
        self.prefix = prefix
        self.on_unavailable = on_unavailable
        self.lock_ms = lock_ms
        self.wait_s = wait_s

    def _down(self, exc: Exception) -> None:
        if self.on_unavailable is not None:
            self.on_unavailable(exc)

    def get_or_load(self, key: str, load: Callable[[], str | None],
                    ttl_s: int | None = None) -> str | None:
        from redis import RedisError

        full = self.prefix + key
        try:
            cached = self.client.get(full)
            if cached is not None:
                text = cached.decode()
                return None if text == MISSING else text
            # Only one caller loads a missing key; the others wait briefly for its result.
            if not self.client.set(full + ":lock", "1", nx=True, px=self.lock_ms):
                deadline = time.monotonic() + self.wait_s
                while time.monotonic() < deadline:
                    time.sleep(0.01)
                    cached = self.client.get(full)
                    if cached is not None:
                        text = cached.decode()
                        return None if text == MISSING else text
        except (RedisError, OSError) as exc:
            self._down(exc)
            return load()  # degraded: straight from the database
        value = load()
        try:
            self.client.set(full, MISSING if value is None else value, ex=ttl_s or self.ttl_s)
            self.client.delete(full + ":lock")
        except (RedisError, OSError) as exc:
            self._down(exc)
        return value

    def invalidate(self, *keys: str) -> None:
        from redis import RedisError

        try:
            self.client.delete(*(self.prefix + k for k in keys))
        except (RedisError, OSError) as exc:
            self._down(exc)

    def catalog_generation(self) -> int:
        from redis import RedisError

        try:
            value = self.client.get(self.prefix + "catalog:generation")
        except (RedisError, OSError) as exc:
            self._down(exc)
            return -1
        return int(value) if value else 0

    def bump_catalog(self) -> None:
        from redis import RedisError

        try:
            self.client.incr(self.prefix + "catalog:generation")
        except (RedisError, OSError) as exc:
            self._down(exc)
