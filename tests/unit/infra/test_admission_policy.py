"""The admission budget's policy without processes: a queue that cannot be served within the
wait throttles on arrival, a CPU-heavy function runs within its own cap while others pass it,
and waiting functions are admitted in turn."""

from __future__ import annotations

import asyncio
import time

import pytest

from localcloud.runtime.admission import (
    HEAVY_CPU_MS,
    Admission,
    AdmissionTimeout,
    Budget,
)


def test_a_queue_longer_than_the_wait_throttles_on_arrival() -> None:
    async def go() -> tuple[float, int, int]:
        admission = Admission(Budget(running=1, cold_starts=1, wait_s=1.0, queue_s=1.0))
        for _ in range(30):  # requests of "a" hold their slot 0.4 s
            await admission.enter("a", time.monotonic() + 1)
            admission.leave("a", held_s=0.4)
        await admission.enter("a", time.monotonic() + 1)   # holds the only slot
        deadline = time.monotonic() + 1
        # The slot frees in ~0.4 s, then each waiting request holds it ~0.4 s.
        waiting = [asyncio.ensure_future(admission.enter("a", deadline))  # 0.4, 0.8 s: wait
                   for _ in range(2)]
        await asyncio.sleep(0)
        started = time.monotonic()
        with pytest.raises(AdmissionTimeout):
            await admission.enter("a", deadline)                       # 1.2 s: too long
        took = time.monotonic() - started
        queued = admission.queued
        for request in waiting:
            request.cancel()
        return took, queued, admission.throttled_on_arrival

    took, queued, throttled = asyncio.run(go())
    assert took < 0.05, took          # at once, not after the wait
    assert queued == 2                # those that can be served by then still wait
    assert throttled == 1


def test_a_cpu_heavy_function_waits_for_its_cap_while_others_pass() -> None:
    async def go() -> tuple[bool, bool, bool]:
        admission = Admission(Budget(running=8, cold_starts=1, wait_s=5, heavy=1, queue_s=5))
        deadline = time.monotonic() + 5
        for _ in range(10):  # "hash" learns to be heavy, "read" light
            await admission.enter("hash", deadline)
            admission.leave("hash", held_s=0.05, cpu_ms=HEAVY_CPU_MS * 3)
            await admission.enter("read", deadline)
            admission.leave("read", held_s=0.005, cpu_ms=1.0)
        await admission.enter("hash", deadline)                    # the heavy one's only slot
        second_hash = asyncio.ensure_future(admission.enter("hash", deadline))
        await asyncio.sleep(0.01)
        read = asyncio.ensure_future(admission.enter("read", deadline))
        await asyncio.sleep(0.01)
        waited_for_cap = not second_hash.done()
        read_passed = read.done()
        admission.leave("hash", held_s=0.05, cpu_ms=HEAVY_CPU_MS * 3)
        await asyncio.wait_for(second_hash, 1)
        return waited_for_cap, read_passed, admission.by_function["hash"] == 1

    assert asyncio.run(go()) == (True, True, True)


def test_a_function_that_turns_light_loses_its_cap() -> None:
    async def go() -> dict[str, int]:
        admission = Admission(Budget(running=8, cold_starts=1, wait_s=5, heavy=1, queue_s=5))
        deadline = time.monotonic() + 5
        await admission.enter("f", deadline)
        admission.leave("f", held_s=0.05, cpu_ms=HEAVY_CPU_MS * 5)
        once = dict(admission.caps)      # one costly invocation does not make it heavy
        for _ in range(10):
            await admission.enter("f", deadline)
            admission.leave("f", held_s=0.05, cpu_ms=HEAVY_CPU_MS * 2)
        capped = dict(admission.caps)
        for _ in range(40):
            await admission.enter("f", deadline)
            admission.leave("f", held_s=0.005, cpu_ms=0.5)
        return {"once": once.get("f", 0), "before": capped.get("f", 0),
                "after": admission.caps.get("f", 0)}

    assert asyncio.run(go()) == {"once": 0, "before": 1, "after": 0}


def test_a_request_waits_for_a_running_slot_at_most_the_queue_bound() -> None:
    async def go() -> float:
        admission = Admission(Budget(running=1, cold_starts=1, wait_s=30, queue_s=0.3))
        await admission.enter("a", time.monotonic() + 30)   # holds the only slot
        started = time.monotonic()
        with pytest.raises(AdmissionTimeout):
            await admission.enter("a", time.monotonic() + 30)
        return time.monotonic() - started

    took = asyncio.run(go())
    assert 0.25 < took < 0.6, took
