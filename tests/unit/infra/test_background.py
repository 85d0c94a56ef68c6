"""Stopping the runtime's background tasks and the runtime itself: bounded, and saying which
task would not stop."""

from __future__ import annotations

import asyncio

from localcloud.runtime.background import Background, bounded


async def polite() -> None:
    await asyncio.sleep(3600)


async def stubborn() -> None:
    while True:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            continue  # the kind of bug that used to hang `edu down`


def test_cancel_all_ends_tasks_and_names_the_one_that_would_not_stop() -> None:
    async def scenario() -> tuple[list[str], list[bool], float]:
        background = Background()
        background.start(polite())
        background.start(stubborn())
        await asyncio.sleep(0)  # let both start waiting
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        started = asyncio.get_running_loop().time()
        stuck = await background.cancel_all(wait_s=0.2)
        waited = asyncio.get_running_loop().time() - started
        ended = [t.done() for t in sorted(tasks, key=lambda t: repr(t.get_coro()))]
        for task in tasks:  # end the stubborn one, or asyncio.run would wait for it forever
            if not task.done():
                task.get_coro().close()
        return stuck, ended, waited

    stuck, ended, waited = asyncio.run(scenario())
    assert len(stuck) == 1 and "stubborn" in stuck[0] and "test_background.py" in stuck[0]
    assert ended == [True, False]  # polite ended; stubborn is still running
    assert 0.2 <= waited < 2


async def stop_that_waits_on(lock: asyncio.Lock) -> None:
    async with lock:  # held elsewhere for good: the shape of a stop that hangs
        pass


def test_bounded_gives_up_on_a_hanging_stop_and_says_where_tasks_wait() -> None:
    async def scenario() -> tuple[list[str], float]:
        lock = asyncio.Lock()
        await lock.acquire()
        holder = asyncio.create_task(polite())
        await asyncio.sleep(0)
        assert await bounded(asyncio.sleep(0.01), wait_s=1) == []  # a stop that ends
        started = asyncio.get_running_loop().time()
        stuck = await bounded(stop_that_waits_on(lock), wait_s=0.2)
        waited = asyncio.get_running_loop().time() - started
        holder.cancel()
        return stuck, waited

    stuck, waited = asyncio.run(scenario())
    assert any("stop_that_waits_on" in s for s in stuck), stuck
    assert any("polite" in s for s in stuck)  # every waiting task is named, not just the stop
    assert 0.2 <= waited < 2
