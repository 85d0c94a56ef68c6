"""Admission control for the whole machine: how many invocations run at once, and how many
workers start at once, across every function of the runtime.

A laptop is not Lambda's fleet: a worker's cold start costs hundreds of milliseconds of
CPU, and dozens of them at once on two cores make every request time out, whose workers are
killed, whose replacements start cold again (a metastable collapse). So:
- at most `running` invocations run at once; beyond that a request waits in a queue that
  serves functions in turn (a flood to one function does not starve the others);
- at most `cold_starts` workers start at once; a request that would start one waits for
  either a free start or a warm worker of its function, whichever comes first (scaling up
  gradually, as Lambda does);
- a request that cannot start within `wait_s` is throttled at once (HTTP answers 429 with
  Retry-After, queue triggers retry it), never left to time out a minute later.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass


class AdmissionTimeout(Exception):
    """The request could not start within the budget's wait."""


@dataclass(frozen=True)
class Budget:
    running: int       # invocations running at once, all functions together
    cold_starts: int   # workers starting at once
    wait_s: float      # the longest a request waits to start before it is throttled

    @classmethod
    def for_machine(cls, running: int | None = None, cold_starts: int | None = None,
                    wait_s: float | None = None) -> Budget:
        """Sized from the CPU count where not given: 32 running invocations per core (most of
        an invocation is waiting on a store), one starting worker per core (a start is all
        CPU), and a 10 s wait."""
        cores = os.cpu_count() or 2
        return cls(running=running or 32 * cores, cold_starts=cold_starts or cores,
                   wait_s=wait_s or 10.0)


class Admission:
    """The budget's bookkeeping (one event loop, so no locks)."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.running = 0
        self.starting = 0
        self.queued = 0
        self._queues: OrderedDict[str, deque[asyncio.Future[None]]] = OrderedDict()
        self._start_waiters: list[asyncio.Future[None]] = []

    # --- running invocations ------------------------------------------------------------

    async def enter(self, function: str, deadline: float) -> None:
        """A running slot for an invocation of `function`; AdmissionTimeout by `deadline`
        (time.monotonic)."""
        if self.running < self.budget.running and not self.queued:
            self.running += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queues.setdefault(function, deque()).append(waiter)
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
                self.leave()  # a slot handed to it passes on
            raise
        finally:
            if not waiter.done():
                waiter.cancel()
            queue = self._queues.get(function)
            if queue is not None and waiter in queue:
                queue.remove(waiter)
                self.queued -= 1

    def leave(self) -> None:
        """Frees a running slot: hands it to the next function in turn, if any waits."""
        while self._queues:
            function, queue = next(iter(self._queues.items()))
            self._queues.move_to_end(function)  # the next slot goes to another function
            while queue:
                waiter = queue.popleft()
                self.queued -= 1
                if not waiter.done():
                    waiter.set_result(None)  # the slot passes on: `running` is unchanged
                    if not queue:
                        del self._queues[function]
                    return
            del self._queues[function]
        self.running -= 1

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
