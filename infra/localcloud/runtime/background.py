"""Tasks the runtime starts without awaiting them (pollers, async invokes, snapshot warm-up)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

STOP_WAIT_S = 5.0  # how long a stop waits for cancelled tasks before it goes on without them
CLOSE_WAIT_S = 20.0  # how long the whole runtime's stop may take before it gives up waiting


class Background:
    """Keeps each started task referenced until it ends (asyncio holds only weak references
    to tasks, so an unreferenced one can vanish mid-run) and cancels them all on close."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def start(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def cancel_all(self, wait_s: float = STOP_WAIT_S) -> list[str]:
        """Cancels every task and waits up to `wait_s` for them to end. Returns where each
        task that did not end was waiting (a stop must not hang on one task that ignores
        its cancellation: `edu down` once waited forever)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        self._tasks.clear()
        if not tasks:
            return []
        done, pending = await asyncio.wait(tasks, timeout=wait_s)
        for task in done:
            if not task.cancelled():
                task.exception()  # retrieved: an error of a stopping task is not news
        return [where(task) for task in pending]


def where(task: asyncio.Task[Any]) -> str:
    """A task's coroutine and the line it waits at, for a log line about a stuck stop."""
    frames = task.get_stack()
    at = f"{frames[-1].f_code.co_filename}:{frames[-1].f_lineno}" if frames else "?"
    return f"{task.get_coro()!r} at {at}"


async def bounded(work: Coroutine[Any, Any, Any], wait_s: float = CLOSE_WAIT_S) -> list[str]:
    """Runs `work` for at most `wait_s`. If it is not done by then, it is cancelled and left
    behind, and the answer says where every task of the loop still waits (a stop that hangs
    on one await must not keep `edu down` from ending the process)."""
    task = asyncio.create_task(work)
    done, _ = await asyncio.wait({task}, timeout=wait_s)
    if done:
        task.result()
        return []
    task.cancel()
    current = asyncio.current_task()
    return [where(t) for t in asyncio.all_tasks() if t is not current and not t.done()]
