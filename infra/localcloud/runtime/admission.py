"""Admission control for the whole machine: how many invocations run at once, and how many
workers start at once, across every function of the runtime.

A laptop is not Lambda's fleet: a worker's cold start costs hundreds of milliseconds of
CPU, and dozens of them at once on two cores make every request time out, whose workers are
killed, whose replacements start cold again (a metastable collapse). So:
- at most `running` invocations run at once; beyond that a request waits in a queue that
  serves functions in turn (a flood to one function does not starve the others);
- a CPU-heavy function (its invocations use `HEAVY_CPU_MS` of CPU or more, e.g. password
  hashing) runs at most `heavy` invocations at once (one per core): on Lambda each
  invocation has a CPU of its own; here dozens of them at once (a sign-in flood) would
  share the cores with every other request, and every request would slow down with them;
- at most `cold_starts` workers start at once; a request that would start one waits for
  either a free start or a warm worker of its function, whichever comes first (scaling up
  gradually, as Lambda does);
- a request waits for a running slot at most `queue_s` (one second: a queue that does not
  drain within a second only adds latency, so the excess is refused quickly, CoDel's idea),
  and for its worker to start at most `wait_s`; then it is throttled (HTTP answers 429 with
  Retry-After, queue triggers retry it), never left to time out a minute later. When the
  queue ahead of it already takes longer than that (judged from how long its function and
  all functions hold a slot, Little's law), it is throttled on arrival.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass

HEAVY_CPU_MS = 10.0  # mean CPU per invocation from which a function counts as CPU-heavy
EWMA = 0.1           # weight of the newest observation in the running means


class AdmissionTimeout(Exception):
    """The request could not start within the budget's wait."""


@dataclass(frozen=True)
class Budget:
    running: int       # invocations running at once, all functions together
    cold_starts: int   # workers starting at once
    wait_s: float      # the longest a request waits to start (its worker too) before 429
    heavy: int = 1     # invocations of one CPU-heavy function running at once
    queue_s: float = 1.0  # the longest a request waits for a running slot

    @classmethod
    def for_machine(cls, running: int | None = None, cold_starts: int | None = None,
                    wait_s: float | None = None, queue_s: float | None = None) -> Budget:
        """Sized from the CPU count where not given: 32 running invocations per core (most of
        an invocation is waiting on a store), one starting worker per core (a start is all
        CPU), one invocation per core of a CPU-heavy function, a 1 s queue and a 10 s wait in all
        (scaling up takes a while without SnapStart)."""
        cores = os.cpu_count() or 2
        return cls(running=running or 32 * cores, cold_starts=cold_starts or cores,
                   wait_s=wait_s or 10.0, heavy=cores, queue_s=queue_s or 1.0)


class Admission:
    """The budget's bookkeeping (one event loop, so no locks)."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.running = 0
        self.starting = 0
        self.queued = 0
        self.throttled_on_arrival = 0
        self.by_function: dict[str, int] = {}
        self.caps: dict[str, int] = {}        # CPU-heavy functions' limit
        self.cpu_ms: dict[str, float] = {}    # mean CPU per invocation
        self.hold_s: dict[str, float] = {}    # mean time a slot is held, per function
        self.hold_all_s = 0.0
        # per function, its waiting requests: (future, when it started waiting)
        self._queues: OrderedDict[str, deque[tuple[asyncio.Future[None], float]]] = \
            OrderedDict()
        self._start_waiters: list[asyncio.Future[None]] = []

    # --- running invocations ------------------------------------------------------------

    def _may_run(self, function: str) -> bool:
        return self.by_function.get(function, 0) < self.caps.get(function, self.budget.running)

    def _admit(self, function: str) -> None:
        self.running += 1
        self.by_function[function] = self.by_function.get(function, 0) + 1

    def expected_wait(self, function: str) -> float:
        """Seconds a request of `function` arriving now would wait: the queue ahead of it
        (its function's, served `cap` at a time; everyone's, `running` at a time), each
        request holding a slot as long as such requests have lately."""
        ahead = len(self._queues.get(function, ())) + 1
        cap = min(self.caps.get(function, self.budget.running), self.budget.running)
        own = ahead * self.hold_s.get(function, 0.0) / cap
        everyone = (self.queued + 1) * self.hold_all_s / self.budget.running
        return max(own, everyone)

    async def enter(self, function: str, deadline: float) -> None:
        """A running slot for an invocation of `function`; AdmissionTimeout after the budget's
        `queue_s` or by `deadline` (time.monotonic), whichever is first, or at once if the
        queue ahead cannot be served by then."""
        if self.running < self.budget.running and function not in self._queues \
                and self._may_run(function):
            self._admit(function)
            return
        now = time.monotonic()
        deadline = min(deadline, now + self.budget.queue_s)
        if self.expected_wait(function) > deadline - now:
            self.throttled_on_arrival += 1
            raise AdmissionTimeout(function)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (waiter, now)
        self._queues.setdefault(function, deque()).append(entry)
        self.queued += 1
        try:
            await asyncio.wait_for(asyncio.shield(waiter), max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            if waiter.done() and not waiter.cancelled():
                return  # handed a slot just as the wait ended: keep it
            waiter.cancel()
            raise AdmissionTimeout(function) from None
        except BaseException:  # the request went away (cancelled) while it waited
            if waiter.done() and not waiter.cancelled():
                self.leave(function)  # a slot handed to it passes on
            raise
        finally:
            if not waiter.done():
                waiter.cancel()
            queue = self._queues.get(function)
            if queue is not None and entry in queue:
                queue.remove(entry)
                self.queued -= 1
                if not queue:
                    del self._queues[function]

    def leave(self, function: str, held_s: float | None = None,
              cpu_ms: float | None = None) -> None:
        """Frees `function`'s running slot (learning how long it was held and the CPU the
        invocation used) and hands free slots to waiting functions in turn."""
        self.running -= 1
        self.by_function[function] -= 1
        if held_s is not None:
            self.hold_s[function] = _mean(self.hold_s.get(function), held_s)
            self.hold_all_s = _mean(self.hold_all_s or None, held_s)
        if cpu_ms is not None:  # from zero: one costly invocation does not make it heavy
            mean = self.cpu_ms[function] = _mean(self.cpu_ms.get(function, 0.0), cpu_ms)
            if mean >= HEAVY_CPU_MS:
                self.caps[function] = self.budget.heavy
            else:
                self.caps.pop(function, None)
        self._dispatch()

    def _dispatch(self) -> None:
        """Admits waiting requests while slots are free: the first function in turn that
        its cap allows, then that function goes to the back of the turn."""
        while self.running < self.budget.running:
            function = next((f for f in self._queues if self._may_run(f)), None)
            if function is None:
                return
            queue = self._queues[function]
            self._queues.move_to_end(function)
            waiter, _ = queue.popleft()
            self.queued -= 1
            if not queue:
                del self._queues[function]
            if not waiter.done():
                waiter.set_result(None)
                self._admit(function)

    # --- starting workers -------------------------------------------------------------

    def try_start(self) -> bool:
        """Takes a start slot if one is free (the caller then starts a worker)."""
        if self.starting < self.budget.cold_starts:
            self.starting += 1
            return True
        return False

    def start_freed(self) -> asyncio.Future[None]:
        """A future done when a start slot frees (to wait on beside a warm worker)."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._start_waiters.append(waiter)
        return waiter

    def started(self) -> None:
        """A worker finished starting (ready, failed or killed): its slot frees."""
        self.starting -= 1
        waiters, self._start_waiters = self._start_waiters, []
        for waiter in waiters:  # all of them look again; the loser waits anew
            if not waiter.done():
                waiter.set_result(None)

    @contextlib.asynccontextmanager
    async def start_slot(self) -> AsyncIterator[None]:
        """A start slot, waited for without a bound (provisioned workers, snapshots)."""
        while not self.try_start():
            await self.start_freed()
        try:
            yield
        finally:
            self.started()


def _mean(previous: float | None, value: float) -> float:
    return value if previous is None else previous + EWMA * (value - previous)
