"""The machine-wide budget with real worker processes: requests beyond it queue and are
served in turn, a request that cannot start in time is throttled at once, and a burst on a
function that starts slowly starts a few workers, not one per request."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path
from typing import Any

from localcloud.runtime.admission import Budget
from localcloud.runtime.invocation import InvokeResult
from localcloud.runtime.pool import FunctionPools
from localcloud.template import load_template

ROOT = Path(__file__).resolve().parents[3]
FIXTURE = ROOT / "tests/fixtures/runtime/template.yaml"
BASE_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:1"}


def burst(budget: Budget, calls: list[tuple[str, dict[str, Any], float]]
          ) -> list[tuple[InvokeResult, float]]:
    """Invokes each (function, event, delay before sending) on one runtime; returns each
    result with the seconds it took."""
    runtime = FunctionPools(load_template(FIXTURE), BASE_ENV, lambda _line: None, budget=budget)

    async def one(name: str, event: dict[str, Any], delay: float
                  ) -> tuple[InvokeResult, float]:
        await asyncio.sleep(delay)
        started = time.monotonic()
        result = await runtime.invoke(name, event)
        return result, time.monotonic() - started

    async def go() -> list[tuple[InvokeResult, float]]:
        try:
            return list(await asyncio.gather(*(one(*call) for call in calls)))
        finally:
            await runtime.close()

    return asyncio.run(go())


def test_requests_beyond_the_budget_wait_and_are_served() -> None:
    results = burst(Budget(running=2, cold_starts=2, wait_s=10, queue_s=10),
                    [("SlowStartFunction", {"hold": 0.3}, 0.0)] * 4)
    assert [r.status for r, _ in results] == ["ok"] * 4
    # two at a time: the second pair waited for the first
    assert sorted(took for _, took in results)[-1] > 0.6


def test_a_request_that_cannot_start_in_time_is_throttled_at_once() -> None:
    results = burst(Budget(running=1, cold_starts=1, wait_s=0.3, queue_s=0.3),
                    [("SlowStartFunction", {"hold": 1.0}, 0.0)] * 3)
    statuses = sorted(r.status for r, _ in results)
    assert statuses == ["ok", "throttled", "throttled"]
    for result, took in results:
        if result.status == "throttled":
            assert took < 0.8  # the wait's bound, not the function's timeout
            assert result.error and result.error["errorType"] == "TooManyRequestsException"


def test_a_burst_starts_a_few_workers_not_one_per_request() -> None:
    results = burst(Budget(running=32, cold_starts=1, wait_s=20),
                    [("SlowStartFunction", {"hold": 0.05}, 0.0)] * 8)
    assert [r.status for r, _ in results] == ["ok"] * 8
    workers = {r.payload["pid"] for r, _ in results}
    cold = sum(r.cold for r, _ in results)
    # One worker starts at a time; meanwhile finished workers serve the waiting requests.
    assert cold == len(workers) <= 4, (cold, workers)


def test_waiting_functions_are_served_in_turn() -> None:
    # One slot: a flood of one function, then a single request of another that arrives
    # later. The other is served next, not after the whole flood.
    calls = [("SlowStartFunction", {"hold": 0.2}, 0.0)] * 5
    calls.append(("OtherSlowStartFunction", {"hold": 0.0}, 0.1))
    results = burst(Budget(running=1, cold_starts=1, wait_s=30, queue_s=30), calls)
    assert all(r.ok for r, _ in results)
    other_done = results[-1][0].payload["done"]
    flood_done = sorted(r.payload["done"] for r, _ in results[:-1])
    assert other_done < flood_done[2], (other_done, flood_done)


def test_a_request_that_goes_away_while_it_waits_leaves_no_trace() -> None:
    from localcloud.runtime.admission import Admission

    async def go() -> tuple[bool, int, int]:
        admission = Admission(Budget(running=1, cold_starts=1, wait_s=5, queue_s=5))
        deadline = time.monotonic() + 5
        await admission.enter("a", deadline)            # holds the only slot
        gone = asyncio.ensure_future(admission.enter("b", deadline))
        waiting = asyncio.ensure_future(admission.enter("c", deadline))
        await asyncio.sleep(0.01)
        gone.cancel()                                   # "b" goes away while it waits
        await asyncio.sleep(0.01)
        admission.leave("a")                            # the slot goes to "c", not "b"
        await asyncio.wait_for(waiting, 1)
        return gone.cancelled(), admission.running, admission.queued

    assert asyncio.run(go()) == (True, 1, 0)


def test_a_cpu_heavy_function_runs_within_its_cap_and_others_pass_it() -> None:
    runtime = FunctionPools(load_template(FIXTURE), BASE_ENV, lambda _line: None,
                      budget=Budget(running=8, cold_starts=2, wait_s=20, heavy=1, queue_s=20))

    async def go() -> tuple[list[InvokeResult], InvokeResult]:
        try:
            for _ in range(5):  # the first is cold (not learned from); then it is heavy
                learned = await runtime.invoke("SlowStartFunction", {"burn": 0.05, "hold": 0})
                assert learned.ok and learned.cpu_ms and learned.cpu_ms >= 40, learned
            assert (await runtime.invoke("OtherSlowStartFunction", {"hold": 0})).ok  # warm
            burns = [asyncio.ensure_future(runtime.invoke(
                "SlowStartFunction", {"burn": 0.15, "hold": 0})) for _ in range(4)]
            await asyncio.sleep(0.05)
            light = await runtime.invoke("OtherSlowStartFunction", {"hold": 0})
            return list(await asyncio.gather(*burns)), light
        finally:
            await runtime.close()

    burns, light = asyncio.run(go())
    assert all(r.ok for r in burns) and light.ok
    spans = sorted((r.payload["began"], r.payload["done"]) for r in burns)
    for (_, done), (began, _) in itertools.pairwise(spans):
        assert began >= done - 0.005, spans  # one at a time: no two burns overlap
    assert len({r.payload["pid"] for r in burns}) == 1  # one warm worker served them all
    # the light function answered while the burns still queued
    assert light.payload["done"] < spans[-1][0], (light.payload, spans)
