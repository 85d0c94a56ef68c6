"""Ended sessions, so that an access token stops working within seconds of a logout or of
its refresh token being reused, not when it expires (up to 15 minutes later).

An access token names its session (`sid`, the refresh-token family). Ending a session marks
its id in Redis for as long as its access tokens can live; every authenticated request asks
whether its session is marked, and each worker remembers the answer for `CACHE_S` seconds so
that a busy session costs one Redis read per worker every few seconds. When Redis cannot
answer, requests pass (the token's own expiry still bounds them) and the failure is counted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

CACHE_S = 5.0
_PREFIX = "revoked:sid:"


class SessionRevocations:
    def __init__(self, client: Any, ttl_s: int, *, cache_s: float = CACHE_S,
                 on_unavailable: Callable[[Exception], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.ttl_s = ttl_s
        self.cache_s = cache_s
        self.on_unavailable = on_unavailable
        self.clock = clock
        self._known: dict[str, tuple[bool, float]] = {}

    def revoke(self, sid: str) -> None:
        from redis import RedisError

        try:
            self.client.set(_PREFIX + sid, b"1", ex=self.ttl_s)
        except (RedisError, OSError) as exc:
            if self.on_unavailable is not None:
                self.on_unavailable(exc)
        self._known[sid] = (True, self.clock())

    def revoked(self, sid: str) -> bool:
        from redis import RedisError

        now = self.clock()
        known = self._known.get(sid)
        if known is not None and (known[0] or now - known[1] < self.cache_s):
            return known[0]
        try:
            answer = bool(self.client.exists(_PREFIX + sid))
        except (RedisError, OSError) as exc:
            if self.on_unavailable is not None:
                self.on_unavailable(exc)
            return False
        if len(self._known) > 10_000:  # a worker's memory, not a growing map
            self._known.clear()
        self._known[sid] = (answer, now)
        return answer


class RevokingFamilies:
    """A refresh-token family store whose revocations also end the sessions' access tokens."""

    def __init__(self, families: Any, revocations: SessionRevocations) -> None:
        self.families = families
        self.revocations = revocations

    def __getattr__(self, name: str) -> Any:
        return getattr(self.families, name)

    def revoke(self, family_id: str) -> None:
        self.families.revoke(family_id)
        self.revocations.revoke(family_id)
