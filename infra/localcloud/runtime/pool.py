"""Warm/cold worker pools per function, with Lambda's limits and REPORT lines.

An idle warm worker is reused; a new worker is a cold start (runtime/launcher.py starts a
process, or forks the function's zygote). Timeout kills the worker; memory above MemorySize
kills it; ReservedConcurrentExecutions caps concurrent workers (excess is throttled); the
machine-wide admission control (runtime/admission.py) decides when a request may start.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from typing import Any

from localcloud.artifacts import Artifacts
from localcloud.runtime.admission import Admission, AdmissionTimeout, Budget
from localcloud.runtime.invocation import (
    InvokeResult,
    LogSink,
    MemoryExceeded,
    Throttled,
    _print_sink,
    new_request_id,
)
from localcloud.runtime.launcher import WorkerLauncher
from localcloud.runtime.workers import (
    MEMORY_CHECK_S,
    Worker,
    resident_mb,
)
from localcloud.template import Function, Template

# Workers per function when the template reserves none (AWS scales to the account's limit);
# beyond it requests wait in the gateway, first come first served. A cheap, frequent
# function (the catalog: ~2 ms of CPU, ~90 ms of wall time on a saturated machine) needs
# this many in flight under the optimisation gate not to queue behind its own cap.
DEFAULT_CONCURRENCY = 32


class FunctionPool:
    def __init__(self, fn: Function, template: Template, base_env: dict[str, str],
                 log: LogSink = _print_sink, max_concurrency: int | None = None,
                 snapstart: bool | None = None, artifacts: Artifacts | None = None,
                 admission: Admission | None = None) -> None:
        self.fn = fn
        self.admission = admission or Admission(Budget.for_machine())
        if artifacts is None:
            artifacts = Artifacts(template, log)
            artifacts.build([fn])
        self.launcher = WorkerLauncher(fn, template, base_env, artifacts, log, snapstart)
        self.log = log
        self.idle: list[Worker] = []
        self.busy = 0
        self.generation = 0
        self.limit = fn.reserved_concurrency if fn.reserved_concurrency is not None else (
            max_concurrency or DEFAULT_CONCURRENCY)
        self.throttle_on_limit = fn.reserved_concurrency is not None
        self._waiters: list[asyncio.Future[None]] = []
        self._reaping: set[asyncio.Task[None]] = set()
        self.listeners: list[Callable[[Function, InvokeResult], None]] = []

    # --- invocation -------------------------------------------------------------------

    # The event loop is single-threaded: checks and updates below happen without an await
    # in between, so the fast path (a warm idle worker) needs no lock.
    async def _acquire(self, deadline: float) -> tuple[Worker | None, bool]:
        """A warm worker, or the right to start one (a start slot of the machine's budget);
        without either, waits for whichever comes first until `deadline` (then Throttled)."""
        while True:
            while self.idle:
                worker = self.idle.pop()
                if worker.alive() and worker.generation == self.generation:
                    self.busy += 1
                    return worker, False
                self._kill_later(worker)
            start_freed: asyncio.Future[None] | None = None
            if self.busy < self.limit:
                if self.admission.try_start():
                    self.busy += 1
                    return None, True
                start_freed = self.admission.start_freed()
            elif self.throttle_on_limit:
                raise Throttled(self.fn.name)
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                done, _ = await asyncio.wait(
                    [waiter, *([start_freed] if start_freed else [])],
                    timeout=max(0.0, deadline - time.monotonic()),
                    return_when=asyncio.FIRST_COMPLETED)
                if not done:
                    raise Throttled(self.fn.name)
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                if waiter.done():
                    self._wake_next()  # ours may not be the one that takes the worker
                else:
                    waiter.cancel()
                if start_freed is not None and not start_freed.done():
                    start_freed.cancel()

    def _release(self, worker: Worker | None) -> None:
        self.busy -= 1
        if worker is not None and worker.alive() and worker.generation == self.generation:
            self.idle.append(worker)
        elif worker is not None:
            self._kill_later(worker)
        self._wake_next()

    def _wake_next(self) -> None:
        while self._waiters:
            waiter = self._waiters.pop(0)
            if not waiter.done():
                waiter.set_result(None)
                break

    async def prewarm(self) -> int:
        """Provisioned concurrency: starts workers until the template's
        ProvisionedConcurrentExecutions are up (one at a time, as a machine's cores allow),
        so the first requests find them warm. Returns how many it started."""
        started, generation = 0, self.generation
        want = min(self.fn.provisioned_concurrency, self.limit)
        while len(self.idle) + self.busy < want and generation == self.generation:
            self.busy += 1  # the slot is the new worker's while it starts
            worker: Worker | None = None
            try:
                async with self.admission.start_slot():
                    worker = await self.launcher.launch(self.generation)
                    ready = await asyncio.wait_for(worker.recv(),
                                                   timeout=max(10, self.fn.timeout_s))
                if ready.get("type") != "ready":
                    raise RuntimeError(ready.get("error", {}).get("errorMessage", "init failed"))
                worker.init_ms = float(ready.get("init_ms", 0.0))
            except (TimeoutError, asyncio.IncompleteReadError, RuntimeError) as exc:
                self.log(f"[{self.fn.name}] provisioned worker did not start: {exc}")
                if worker is not None:
                    await worker.kill()
                worker = None
            finally:
                self._release(worker)
            if worker is None:
                break
            started += 1
        if started:
            self.log(f"[{self.fn.name}] provisioned concurrency: {started} worker(s) ready")
        return started

    def _kill_later(self, worker: Worker) -> None:
        task = asyncio.get_running_loop().create_task(worker.kill())
        self._reaping.add(task)
        task.add_done_callback(self._reaping.discard)

    async def invoke(self, event: Any, request_id: str | None = None) -> InvokeResult:
        request_id = request_id or new_request_id()
        deadline = time.monotonic() + self.admission.budget.wait_s
        try:
            await self.admission.enter(self.fn.name, deadline)
        except AdmissionTimeout:
            return self._throttled(request_id)
        admitted = time.monotonic()
        result: InvokeResult | None = None
        try:
            try:
                worker, cold = await self._acquire(deadline)
            except Throttled:
                return self._throttled(request_id)
            keep: Worker | None = None
            try:
                result, keep = await self._run(worker, cold, event, request_id)
            finally:
                self._release(keep)
        finally:
            # A cold invocation's CPU includes lazy imports: not what the function costs.
            self.admission.leave(self.fn.name, time.monotonic() - admitted,
                                 result.cpu_ms if result is not None and not result.cold
                                 else None)
        self._notify(result)
        return result

    def _throttled(self, request_id: str) -> InvokeResult:
        result = InvokeResult(request_id, "throttled", error={
            "errorType": "TooManyRequestsException", "errorMessage": "Rate Exceeded."})
        self._notify(result)
        return result

    def _notify(self, result: InvokeResult) -> None:
        for listener in self.listeners:
            listener(self.fn, result)

    async def _run(self, worker: Worker | None, cold: bool, event: Any,
                   request_id: str) -> tuple[InvokeResult, Worker | None]:
        fn = self.fn
        started = time.monotonic()
        deadline = started + fn.timeout_s
        init_ms: float | None = None
        restored = False
        self.log(f"START RequestId: {request_id} Version: $LATEST")
        if worker is None:
            try:  # the start slot _acquire took is held until the worker is ready (or not)
                worker = await self.launcher.launch(self.generation)
                worker.current_request = worker.last_request = request_id
                ready = await asyncio.wait_for(worker.recv(),
                                               timeout=max(0.1, deadline - time.monotonic()))
            except (TimeoutError, asyncio.IncompleteReadError):
                assert worker is not None
                await worker.kill(grace=0.5)
                status = "timeout" if worker.returncode in (None, -9) and \
                    time.monotonic() >= deadline else "crash"
                return self._finish(InvokeResult(request_id, status, error=self._crash_error(
                    worker, status), duration_ms=(time.monotonic() - started) * 1000,
                    cold=True)), None
            finally:
                self.admission.started()
            # Measured here, from spawn (or fork request) to ready: like AWS's Init Duration
            # it includes starting the interpreter, not only the handler module's import.
            init_ms = (time.monotonic() - started) * 1000
            restored = bool(ready.get("restored"))
            worker.init_ms = init_ms
            if ready.get("type") == "init_error":
                await worker.kill()
                return self._finish(InvokeResult(
                    request_id, "init_error", error=ready["error"], init_ms=init_ms,
                    duration_ms=(time.monotonic() - started) * 1000, cold=True)), None
        worker.current_request = request_id
        worker.last_request = request_id
        worker.invocations += 1
        try:
            await worker.send({"request_id": request_id, "event": event,
                               "deadline_ms": int((time.time() + (deadline - time.monotonic()))
                                                  * 1000)})
            reply = await self._await_reply(worker, deadline)
        except MemoryExceeded as exc:
            await worker.kill()
            return self._finish(InvokeResult(
                request_id, "oom", init_ms=init_ms, cold=cold, max_memory_mb=exc.rss_mb,
                duration_ms=(time.monotonic() - started) * 1000,
                error=self._oom_error(exc.rss_mb))), None
        except TimeoutError:
            await worker.kill()
            return self._finish(InvokeResult(
                request_id, "timeout", init_ms=init_ms, cold=cold,
                duration_ms=fn.timeout_s * 1000.0,
                error={"errorType": "Sandbox.Timedout",
                       "errorMessage": f"Task timed out after {fn.timeout_s:.2f} seconds"})), None
        except (asyncio.IncompleteReadError, ConnectionError, BrokenPipeError):
            await worker.kill(grace=0.5)
            return self._finish(InvokeResult(
                request_id, "crash", init_ms=init_ms, cold=cold,
                duration_ms=(time.monotonic() - started) * 1000,
                error=self._crash_error(worker, "crash"))), None
        finally:
            worker.current_request = ""
        max_mem = float(reply.get("max_rss_mb", 0.0))
        result = InvokeResult(
            request_id, "ok" if reply.get("ok") else "error", payload=reply.get("payload"),
            error=reply.get("error"), duration_ms=float(reply.get("duration_ms", 0.0)),
            init_ms=init_ms, max_memory_mb=max_mem, cold=cold, restored=restored,
            cpu_ms=reply.get("cpu_ms"))
        if max_mem > fn.memory_mb:
            await worker.kill()
            result.status = "oom"
            result.error = self._oom_error(max_mem)
            return self._finish(result), None
        return self._finish(result), worker

    async def _await_reply(self, worker: Worker, deadline: float) -> dict[str, Any]:
        """The worker's reply. A timer enforces the deadline and, while the handler runs
        longer than a moment, its memory; fast invocations cost one timer, no extra task."""
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        verdict: list[BaseException] = []
        timer: asyncio.TimerHandle | None = None

        def check() -> None:
            nonlocal timer
            if loop.time() >= deadline:
                verdict.append(TimeoutError())
                task.cancel()
                return
            rss = resident_mb(worker.pid)
            if rss > self.fn.memory_mb:
                verdict.append(MemoryExceeded(rss))
                task.cancel()
                return
            timer = loop.call_at(min(deadline, loop.time() + MEMORY_CHECK_S), check)

        timer = loop.call_at(min(deadline, loop.time() + MEMORY_CHECK_S), check)
        try:
            return await worker.recv()
        except asyncio.CancelledError:
            if verdict:
                task.uncancel()
                raise verdict[0] from None
            raise
        finally:
            if timer is not None:
                timer.cancel()

    def _oom_error(self, used_mb: float) -> dict[str, Any]:
        return {"errorType": "Runtime.OutOfMemory",
                "errorMessage": f"Runtime exited: memory used {used_mb:.0f} MB exceeds "
                                f"MemorySize {self.fn.memory_mb} MB"}

    def _crash_error(self, worker: Worker, status: str) -> dict[str, Any]:
        code = worker.returncode
        if status == "timeout":
            return {"errorType": "Sandbox.Timedout",
                    "errorMessage": f"Task timed out after {self.fn.timeout_s:.2f} seconds"}
        how = f"signal: {-code}" if code is not None and code < 0 else f"exit status {code}"
        return {"errorType": "Runtime.ExitError",
                "errorMessage": f"RequestId: {worker.current_request} Error: Runtime exited "
                                f"with error: {how}"}

    def _finish(self, result: InvokeResult) -> InvokeResult:
        billed = max(1, math.ceil(result.duration_ms))
        self.log(f"END RequestId: {result.request_id}")
        report = (f"REPORT RequestId: {result.request_id}\tDuration: {result.duration_ms:.2f} ms"
                  f"\tBilled Duration: {billed} ms\tMemory Size: {self.fn.memory_mb} MB"
                  f"\tMax Memory Used: {math.ceil(result.max_memory_mb)} MB")
        if result.init_ms is not None:
            kind = "Restore Duration" if result.restored else "Init Duration"
            report += f"\t{kind}: {result.init_ms:.2f} ms"
        if result.status not in ("ok", "error"):
            report += f"\tStatus: {result.status}"
        self.log(report)
        if result.error and result.status != "ok":
            self.log(f"[{self.fn.name}] {result.request_id} "
                     f"{result.error.get('errorType')}: {result.error.get('errorMessage')}")
        return result

    async def recycle(self) -> None:
        """Code changed: idle workers go now, busy ones after their current invocation;
        the snapshot is retaken from the new code."""
        self.generation += 1
        idle, self.idle = self.idle, []
        for worker in idle:
            await worker.kill()
        await self.launcher.drop_zygote()

    async def close(self) -> None:
        await self.recycle()


class FunctionPools:
    """Every function's pool of a template, sharing one build of its artifacts and one
    machine-wide admission control (LocalRuntime serves them over HTTP and triggers)."""

    def __init__(self, template: Template, base_env: dict[str, str],
                 log: LogSink = _print_sink, snapstart: bool | None = None,
                 budget: Budget | None = None) -> None:
        self.template = template
        self.artifacts = Artifacts(template, log)
        self.artifacts.build()
        self.admission = Admission(budget or Budget.for_machine())
        self.pools = {name: FunctionPool(fn, template, base_env, log, snapstart=snapstart,
                                         artifacts=self.artifacts, admission=self.admission)
                      for name, fn in template.functions.items()}

    async def prepare(self) -> None:
        """What AWS does before a published version serves: initialise each SnapStart
        snapshot, and start each function's provisioned concurrency."""
        await asyncio.gather(*(pool.launcher.ensure_zygote() for pool in self.pools.values()
                               if pool.launcher.snapstart))
        await asyncio.gather(*(pool.prewarm() for pool in self.pools.values()
                               if pool.fn.provisioned_concurrency))

    def pool(self, name: str) -> FunctionPool:
        return self.pools[name]

    async def invoke(self, name: str, event: Any, request_id: str | None = None
                     ) -> InvokeResult:
        return await self.pools[name].invoke(event, request_id)

    async def close(self) -> None:
        for pool in self.pools.values():
            await pool.close()
