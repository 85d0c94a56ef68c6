"""A small circuit breaker for optional dependencies (a search engine): after a run of
failures, calls are skipped for a while instead of each one waiting on a dead server; then
one trial call decides whether to close again. Per process, like the clients it guards."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class CircuitBreaker:
    def __init__(self, failure_threshold: int = 3, reset_after_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.failure_threshold = failure_threshold
        self.reset_after_s = reset_after_s
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self._trial = False
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        return "half-open" if self._trial else "open"

    def allow(self) -> bool:
        """Whether to try the dependency now (one trial at a time once the wait is over)."""
        with self._lock:
            if self.opened_at is None:
                return True
            if self._trial or self.clock() - self.opened_at < self.reset_after_s:
                return False
            self._trial = True
            return True

    def success(self) -> None:
        with self._lock:
            self.failures, self.opened_at, self._trial = 0, None, False

    def failure(self) -> None:
        with self._lock:
            self.failures += 1
            if self._trial or self.failures >= self.failure_threshold:
                self.opened_at, self._trial = self.clock(), False
