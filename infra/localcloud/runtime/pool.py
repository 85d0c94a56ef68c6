"""Warm/cold worker pools per function, with Lambda's limits and REPORT lines.

A worker is one OS process running bootstrap.py for one function. An idle warm worker is
reused; a new worker is a cold start. Timeout kills the worker; memory above MemorySize
kills it; ReservedConcurrentExecutions caps concurrent workers (excess is throttled).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import signal
import socket
import struct
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localcloud.template import Function, Template

BOOTSTRAP = Path(__file__).with_name("bootstrap.py")
_HEADER = struct.Struct(">I")
DEFAULT_CONCURRENCY = 16  # per function, when the template reserves none (AWS: account-wide)
PROJECT_PATHS = [str(Path(__file__).resolve().parents[2]),           # infra/
                 str(Path(__file__).resolve().parents[3] / "shared")]  # shared/

LogSink = Callable[[str], None]


def _print_sink(line: str) -> None:
    print(line, flush=True)


@dataclass
class InvokeResult:
    request_id: str
    status: str  # ok | error | timeout | crash | oom | throttled | init_error
    payload: Any = None
    error: dict[str, Any] | None = None
    duration_ms: float = 0.0
    init_ms: float | None = None
    max_memory_mb: float = 0.0
    cold: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class Throttled(Exception):
    pass


@dataclass
class Worker:
    proc: asyncio.subprocess.Process
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    init_ms: float = 0.0
    invocations: int = 0
    current_request: str = ""
    generation: int = 0
    log_tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def alive(self) -> bool:
        return self.proc.returncode is None

    async def send(self, message: dict[str, Any]) -> None:
        data = json.dumps(message, separators=(",", ":")).encode()
        self.writer.write(_HEADER.pack(len(data)) + data)
        await self.writer.drain()

    async def recv(self) -> dict[str, Any]:
        header = await self.reader.readexactly(_HEADER.size)
        (size,) = _HEADER.unpack(header)
        message: dict[str, Any] = json.loads(await self.reader.readexactly(size))
        return message

    async def kill(self, grace: float = 0.0) -> None:
        """Stops the worker and anything it started (its own process group)."""
        if self.alive() and grace:
            # It may be exiting already (crash): let the child watcher reap it first;
            # Popen.kill() would poll() and steal the exit status from the watcher.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.proc.wait(), grace)
        if self.alive():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            await self.proc.wait()
        self.writer.close()
        for task in self.log_tasks:
            task.cancel()


class FunctionPool:
    def __init__(self, fn: Function, template: Template, base_env: dict[str, str],
                 log: LogSink = _print_sink, max_concurrency: int | None = None) -> None:
        self.fn = fn
        self.template = template
        self.base_env = base_env
        self.log = log
        self.idle: list[Worker] = []
        self.busy = 0
        self.generation = 0
        self.limit = fn.reserved_concurrency if fn.reserved_concurrency is not None else (
            max_concurrency or DEFAULT_CONCURRENCY)
        self.throttle_on_limit = fn.reserved_concurrency is not None
        self._slot = asyncio.Condition()
        self.listeners: list[Callable[[Function, InvokeResult], None]] = []

    # --- process management -----------------------------------------------------------

    def worker_env(self) -> dict[str, str]:
        fn = self.fn
        env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR", "SYSTEMROOT")
               if k in os.environ}
        env.update({
            "AWS_LAMBDA_FUNCTION_NAME": fn.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_mb),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(fn.timeout_s),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{fn.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"local/{uuid.uuid4().hex}",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.runtime}",
            "AWS_REGION": self.template.region,
            "AWS_DEFAULT_REGION": self.template.region,
            "LAMBDA_TASK_ROOT": str(fn.code_uri),
            "_HANDLER": fn.handler,
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "TZ": ":UTC",
        })
        env.update(self.base_env)   # local AWS endpoint and credentials
        env.update(fn.environment)  # the template's variables win, as on AWS
        env["EDU_HIDE_PATHS"] = json.dumps(PROJECT_PATHS)
        return env

    def code_paths(self) -> list[str]:
        paths = [str(self.fn.code_uri)]
        for layer in self.template.layer_paths(self.fn):
            # AWS unpacks a layer into /opt; Python layers keep their code under python/.
            paths.append(str(layer / "python") if (layer / "python").is_dir() else str(layer))
        return paths

    async def _spawn(self) -> Worker:
        parent_sock, child_sock = socket.socketpair()
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-I", str(BOOTSTRAP), str(child_sock.fileno()), self.fn.handler,
                json.dumps(self.code_paths()), pass_fds=(child_sock.fileno(),),
                env=self.worker_env(), stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                start_new_session=True)
        finally:
            child_sock.close()
        reader, writer = await asyncio.open_unix_connection(sock=parent_sock)
        worker = Worker(proc, reader, writer, generation=self.generation)
        for stream in (proc.stdout, proc.stderr):
            assert stream is not None
            worker.log_tasks.append(asyncio.create_task(self._pump(worker, stream)))
        return worker

    async def _pump(self, worker: Worker, stream: asyncio.StreamReader) -> None:
        while True:
            line = await stream.readline()
            if not line:
                return
            text = line.decode(errors="replace").rstrip("\n")
            self.log(f"[{self.fn.name}] {worker.current_request or '-'} {text}")

    # --- invocation -------------------------------------------------------------------

    async def _acquire(self) -> tuple[Worker | None, bool]:
        async with self._slot:
            while True:
                while self.idle:
                    worker = self.idle.pop()
                    if worker.alive() and worker.generation == self.generation:
                        self.busy += 1
                        return worker, False
                    await worker.kill()
                if self.busy < self.limit:
                    self.busy += 1
                    return None, True
                if self.throttle_on_limit:
                    raise Throttled(self.fn.name)
                await self._slot.wait()

    async def _release(self, worker: Worker | None) -> None:
        async with self._slot:
            self.busy -= 1
            if worker is not None and worker.alive() and worker.generation == self.generation:
                self.idle.append(worker)
            elif worker is not None:
                await worker.kill()
            self._slot.notify()

    async def invoke(self, event: Any, request_id: str | None = None) -> InvokeResult:
        request_id = request_id or str(uuid.uuid4())
        try:
            worker, cold = await self._acquire()
        except Throttled:
            result = InvokeResult(request_id, "throttled", error={
                "errorType": "TooManyRequestsException",
                "errorMessage": "Rate Exceeded."})
            self._notify(result)
            return result
        keep: Worker | None = None
        try:
            result, keep = await self._run(worker, cold, event, request_id)
        finally:
            await self._release(keep)
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
        self.log(f"START RequestId: {request_id} Version: $LATEST")
        if worker is None:
            worker = await self._spawn()
            worker.current_request = request_id
            try:
                ready = await asyncio.wait_for(worker.recv(),
                                               timeout=max(0.1, deadline - time.monotonic()))
            except (TimeoutError, asyncio.IncompleteReadError):
                await worker.kill(grace=0.5)
                status = "timeout" if worker.proc.returncode in (None, -9) and \
                    time.monotonic() >= deadline else "crash"
                return self._finish(InvokeResult(request_id, status, error=self._crash_error(
                    worker, status), duration_ms=(time.monotonic() - started) * 1000,
                    cold=True)), None
            init_ms = float(ready.get("init_ms", 0.0))
            worker.init_ms = init_ms
            if ready.get("type") == "init_error":
                await worker.kill()
                return self._finish(InvokeResult(
                    request_id, "init_error", error=ready["error"], init_ms=init_ms,
                    duration_ms=(time.monotonic() - started) * 1000, cold=True)), None
        worker.current_request = request_id
        worker.invocations += 1
        try:
            await worker.send({"request_id": request_id, "event": event,
                               "deadline_ms": int((time.time() + (deadline - time.monotonic()))
                                                  * 1000)})
            reply = await asyncio.wait_for(worker.recv(),
                                           timeout=max(0.001, deadline - time.monotonic()))
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
            init_ms=init_ms, max_memory_mb=max_mem, cold=cold)
        if max_mem > fn.memory_mb:
            await worker.kill()
            result.status = "oom"
            result.error = {"errorType": "Runtime.OutOfMemory",
                            "errorMessage": f"Runtime exited: memory used {max_mem:.0f} MB "
                                            f"exceeds MemorySize {fn.memory_mb} MB"}
            return self._finish(result), None
        return self._finish(result), worker

    def _crash_error(self, worker: Worker, status: str) -> dict[str, Any]:
        code = worker.proc.returncode
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
            report += f"\tInit Duration: {result.init_ms:.2f} ms"
        if result.status not in ("ok", "error"):
            report += f"\tStatus: {result.status}"
        self.log(report)
        if result.error and result.status != "ok":
            self.log(f"[{self.fn.name}] {result.request_id} "
                     f"{result.error.get('errorType')}: {result.error.get('errorMessage')}")
        return result

    async def recycle(self) -> None:
        """Code changed: idle workers go now, busy ones after their current invocation."""
        async with self._slot:
            self.generation += 1
            idle, self.idle = self.idle, []
        for worker in idle:
            await worker.kill()

    async def close(self) -> None:
        await self.recycle()


class Runtime:
    """All function pools of a template."""

    def __init__(self, template: Template, base_env: dict[str, str],
                 log: LogSink = _print_sink) -> None:
        self.template = template
        self.pools = {name: FunctionPool(fn, template, base_env, log)
                      for name, fn in template.functions.items()}

    def pool(self, name: str) -> FunctionPool:
        return self.pools[name]

    async def invoke(self, name: str, event: Any, request_id: str | None = None
                     ) -> InvokeResult:
        return await self.pools[name].invoke(event, request_id)

    async def close(self) -> None:
        for pool in self.pools.values():
            await pool.close()
