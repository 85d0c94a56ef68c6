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
import random
import signal
import socket
import struct
import sys
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from localcloud.artifacts import Artifacts
from localcloud.runtime.admission import Admission, AdmissionTimeout, Budget
from localcloud.runtime.debug import PORT_VAR as DEBUG_PORT_VAR
from localcloud.template import Function, Template

BOOTSTRAP = Path(__file__).with_name("bootstrap.py")
_HEADER = struct.Struct(">I")
# Workers per function when the template reserves none (AWS scales to the account's limit).
# Beyond it requests wait in the gateway, first come first served: at 16 the catalog (a
# ~2 ms request, but ~90 ms of wall time on a saturated machine) sat at its cap half the
# time under the optimisation gate and queued, while its requests are the cheapest to serve.
DEFAULT_CONCURRENCY = 32

LogSink = Callable[[str], None]


class BufferedLog:
    """Log lines written in batches: one write per loop turn instead of three flushed
    prints per invocation (printing was a fifth of the gateway's CPU under load)."""

    def __init__(self, stream: Any = None, delay_s: float = 0.02) -> None:
        self.stream = stream
        self.delay_s = delay_s
        self.pending: list[str] = []
        self.scheduled = False

    def __call__(self, line: str) -> None:
        self.pending.append(line)
        if self.scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        self.scheduled = True
        loop.call_later(self.delay_s, self.flush)

    def flush(self) -> None:
        self.scheduled = False
        if not self.pending:
            return
        stream = self.stream or sys.stdout
        text = "\n".join(self.pending) + "\n"
        self.pending.clear()
        stream.write(text)
        stream.flush()


_print_sink = BufferedLog()


def new_request_id() -> str:
    """A UUIDv4-shaped id from Python's PRNG: request ids need uniqueness, not secrecy
    (uuid4() reads os.urandom, a syscall per request, and builds a UUID object)."""
    h = f"{random.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


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
    restored: bool = False  # the cold start was a fork of an initialised zygote
    cpu_ms: float | None = None  # the handler's CPU, as the worker measured it

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class Throttled(Exception):
    pass


class MemoryExceeded(Exception):
    def __init__(self, rss_mb: float) -> None:
        super().__init__(f"{rss_mb:.0f} MB")
        self.rss_mb = rss_mb


MEMORY_CHECK_S = 0.1  # how often a running invocation's memory is checked


def resident_mb(pid: int) -> float:
    """Current resident memory of a process (VmRSS), 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


class FrameChannel(asyncio.Protocol):
    """The runtime's end of a worker socket: length-prefixed JSON frames.

    A plain Protocol rather than asyncio streams: one future per awaited frame and no
    readexactly() round trips, which is measurable at thousands of invocations a second."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.frames: deque[bytes] = deque()
        self.waiter: asyncio.Future[None] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement the Transport interface without subclassing it.
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        while len(buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(buffer)
            end = _HEADER.size + size
            if len(buffer) < end:
                break
            self.frames.append(bytes(buffer[_HEADER.size:end]))
            del buffer[:end]
        self._wake()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def recv(self) -> dict[str, Any]:
        while not self.frames:
            if self.closed:
                raise asyncio.IncompleteReadError(b"", None)
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        message: dict[str, Any] = orjson.loads(self.frames.popleft())
        return message

    def send(self, message: dict[str, Any]) -> None:
        if self.transport is None or self.closed:
            raise ConnectionError("worker connection is closed")
        data = orjson.dumps(message)
        self.transport.write(_HEADER.pack(len(data)) + data)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def read_pipe(fd: int) -> asyncio.StreamReader:
    """The read end of a pipe as a stream; the descriptor is closed at end of file, once.

    Not `loop.connect_read_pipe(os.fdopen(fd))`: under uvloop, libuv and the file object
    both own that descriptor and both close it when the transport is collected (uvloop
    issue 763). Between the two closes another thread (the gateway's trigger pollers open
    sockets) can be given the number, and the second close takes it from that thread: the
    likely cause of a stack that lost its zygotes' and new workers' sockets while every
    worker was being recycled."""
    loop = asyncio.get_running_loop()
    stream = asyncio.StreamReader()
    os.set_blocking(fd, False)

    def readable() -> None:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            stream.feed_data(data)
            return
        loop.remove_reader(fd)
        os.close(fd)
        stream.feed_eof()

    loop.add_reader(fd, readable)
    return stream


async def open_channel(sock: socket.socket) -> FrameChannel:
    _transport, channel = await asyncio.get_running_loop().create_unix_connection(
        FrameChannel, sock=sock)
    return channel


class Worker:
    """One warm worker: a frame channel plus a way to stop its process."""

    def __init__(self, pid: int, channel: FrameChannel, generation: int) -> None:
        self.pid = pid
        self.channel = channel
        self.generation = generation
        self.init_ms = 0.0
        self.invocations = 0
        self.current_request = ""
        # Output the handler flushed before replying can be read after the reply: lines
        # between invocations belong to the last one.
        self.last_request = ""
        self.log_tasks: list[asyncio.Task[None]] = []

    @property
    def returncode(self) -> int | None:
        raise NotImplementedError

    def alive(self) -> bool:
        return self.returncode is None

    async def wait(self) -> None:
        raise NotImplementedError

    async def send(self, message: dict[str, Any]) -> None:
        self.channel.send(message)

    async def recv(self) -> dict[str, Any]:
        return await self.channel.recv()

    async def kill(self, grace: float = 0.0) -> None:
        """Stops the worker and anything it started (its own process group)."""
        if self.alive() and grace:
            # It may be exiting already (crash): let its exit status arrive first.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.wait(), grace)
        if self.alive():
            kill_group(self.pid)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.wait(), 5)
        self.channel.close()
        for task in self.log_tasks:
            task.cancel()


def kill_group(pid: int) -> None:
    """Kills a worker and whatever it started: bootstrap.py makes each worker the leader of
    its own process group, but one killed before it got there has no group yet."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    except PermissionError:
        pass


class ProcessWorker(Worker):
    """A worker process started from scratch (a full cold start)."""

    def __init__(self, proc: asyncio.subprocess.Process, channel: FrameChannel,
                 generation: int) -> None:
        super().__init__(proc.pid, channel, generation)
        self.proc = proc

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    async def wait(self) -> None:
        # Never Popen.kill()/poll() here: they would steal the exit status from the watcher.
        await self.proc.wait()


class ForkedWorker(Worker):
    """A worker forked from its function's initialised zygote ("SnapStart")."""

    def __init__(self, pid: int, channel: FrameChannel, generation: int,
                 exit_code: asyncio.Future[int]) -> None:
        super().__init__(pid, channel, generation)
        self.exit_code = exit_code

    @property
    def returncode(self) -> int | None:
        return self.exit_code.result() if self.exit_code.done() else None

    async def wait(self) -> None:
        await asyncio.shield(self.exit_code)


class Zygote:
    """An initialised process of one function that forks workers on demand."""

    def __init__(self, proc: asyncio.subprocess.Process, control: socket.socket,
                 reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.proc = proc
        self.control = control
        self.reader = reader
        self.writer = writer
        self.exits: dict[int, asyncio.Future[int]] = {}
        self.forked: asyncio.Queue[int] = asyncio.Queue()
        self.lock = asyncio.Lock()
        self.init_ms = 0.0
        self.log_tasks: list[asyncio.Task[None]] = []
        self.task = asyncio.create_task(self._dispatch())

    def exit_future(self, pid: int) -> asyncio.Future[int]:
        return self.exits.setdefault(pid, asyncio.get_running_loop().create_future())

    async def _dispatch(self) -> None:
        try:
            while True:
                header = await self.reader.readexactly(_HEADER.size)
                (size,) = _HEADER.unpack(header)
                message = json.loads(await self.reader.readexactly(size))
                if message["type"] == "forked":
                    self.forked.put_nowait(int(message["pid"]))
                elif message["type"] == "exit":
                    future = self.exit_future(int(message["pid"]))
                    if not future.done():
                        future.set_result(int(message["code"]))
        except (asyncio.IncompleteReadError, ConnectionError):
            # Zygote gone: its orphans are reaped elsewhere; report them as killed.
            for future in self.exits.values():
                if not future.done():
                    future.set_result(-signal.SIGKILL)

    async def fork(self, fds: list[int]) -> int:
        """The pid of a new worker; ConnectionError when the zygote is gone (it exited, or
        exits before answering): waiting for its answer would wait forever."""
        async with self.lock:
            if self.task.done():
                raise ConnectionError("the zygote has exited")
            try:
                socket.send_fds(self.control, [b"F"], fds)
            except OSError as exc:  # closed by a code change while this fork waited its turn
                raise ConnectionError(f"the zygote is closing ({exc})") from exc
            answer = asyncio.ensure_future(self.forked.get())
            await asyncio.wait({answer, self.task}, return_when=asyncio.FIRST_COMPLETED)
            if answer.done():
                return answer.result()
            answer.cancel()
            raise ConnectionError("the zygote exited before forking")

    async def close(self) -> None:
        self.task.cancel()
        for task in self.log_tasks:
            task.cancel()
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.proc.wait(), 5)  # as a worker's kill: never forever
        self.writer.close()


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
        self.artifacts = artifacts
        # a debugged function's worker waits for its debugger: never forked from a snapshot
        self.snapstart = (fn.snapstart if snapstart is None else snapstart) and (
            DEBUG_PORT_VAR not in fn.environment)
        self.zygote: Zygote | None = None
        self._zygote_lock = asyncio.Lock()
        self.template = template
        self.base_env = base_env
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
        self.line_listeners: list[Callable[[Function, str], None]] = []  # worker output

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
            "AWS_SAM_LOCAL": "true",  # as `sam local` sets it: tools quiet what needs AWS
        })
        env.update(self.base_env)   # local AWS endpoint and credentials
        env.update(fn.environment)  # the template's variables win, as on AWS
        env["EDU_BOOTSTRAP_PATHS"] = json.dumps(self.artifacts.bootstrap_paths(fn))
        return env

    async def _start_process(self, zygote: bool = False
                             ) -> tuple[asyncio.subprocess.Process, socket.socket]:
        parent_sock, child_sock = socket.socketpair()
        try:
            # -I -S: none of the interpreter's site-packages, only what code_paths gives.
            proc = await asyncio.create_subprocess_exec(
                self.artifacts.interpreter(self.fn).executable, "-I", "-S", str(BOOTSTRAP),
                str(child_sock.fileno()), self.fn.handler,
                json.dumps(self.artifacts.code_paths(self.fn)),
                *(["--zygote"] if zygote else []),
                pass_fds=(child_sock.fileno(),), env=self.worker_env(),
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE)
        finally:
            child_sock.close()
        return proc, parent_sock

    async def _spawn(self) -> Worker:
        if self.snapstart:
            forked = await self._fork()
            if forked is not None:
                return forked
        proc, parent_sock = await self._start_process()
        worker = ProcessWorker(proc, await open_channel(parent_sock), self.generation)
        for stream in (proc.stdout, proc.stderr):
            assert stream is not None
            worker.log_tasks.append(asyncio.create_task(self._pump(worker, stream)))
        return worker

    async def ensure_zygote(self) -> Zygote | None:
        """Starts (once per code generation) the initialised process workers fork from."""
        async with self._zygote_lock:
            if self.zygote is not None and self.zygote.proc.returncode is None:
                return self.zygote
            proc, control = await self._start_process(zygote=True)
            reader, writer = await asyncio.open_unix_connection(sock=control)
            log_tasks = []
            for stream in (proc.stdout, proc.stderr):
                assert stream is not None
                log_tasks.append(asyncio.create_task(self._pump(None, stream)))
            try:
                header = await asyncio.wait_for(reader.readexactly(_HEADER.size),
                                                timeout=max(30, self.fn.timeout_s))
                ready = json.loads(await reader.readexactly(_HEADER.unpack(header)[0]))
            except (TimeoutError, asyncio.IncompleteReadError):
                ready = {"type": "init_error"}
            if ready.get("type") != "ready":
                kill_group(proc.pid)
                await proc.wait()
                writer.close()
                return None  # an import error shows on the normal cold path
            self.zygote = Zygote(proc, control, reader, writer)
            self.zygote.log_tasks = log_tasks
            self.zygote.init_ms = float(ready.get("init_ms", 0.0))
            self.log(f"[{self.fn.name}] snapshot ready (init {self.zygote.init_ms:.1f} ms)")
            return self.zygote

    async def _fork(self) -> Worker | None:
        zygote = await self.ensure_zygote()
        if zygote is None:
            return None
        parent_sock, child_sock = socket.socketpair()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        try:
            pid = await zygote.fork([child_sock.fileno(), out_w, err_w])
        except ConnectionError as exc:  # the next cold start starts a new zygote
            self.log(f"[{self.fn.name}] snapshot process gone ({exc}): normal cold start")
            parent_sock.close()
            os.close(out_r)
            os.close(err_r)
            return None
        finally:
            child_sock.close()
            os.close(out_w)
            os.close(err_w)
        worker = ForkedWorker(pid, await open_channel(parent_sock), self.generation,
                              zygote.exit_future(pid))
        for fd in (out_r, err_r):
            worker.log_tasks.append(asyncio.create_task(self._pump(worker, read_pipe(fd))))
        return worker

    async def _pump(self, worker: Worker | None, stream: asyncio.StreamReader) -> None:
        while True:
            line = await stream.readline()
            if not line:
                return
            text = line.decode(errors="replace").rstrip("\n")
            request = (worker.current_request or worker.last_request) if worker else ""
            self.log(f"[{self.fn.name}] {request or '-'} {text}")
            for listener in self.line_listeners:
                listener(self.fn, text)

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
                    worker = await self._spawn()
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
                worker = await self._spawn()
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
        async with self._zygote_lock:
            zygote, self.zygote = self.zygote, None
        if zygote is not None:
            await zygote.close()

    async def close(self) -> None:
        await self.recycle()


class Runtime:
    """All function pools of a template."""

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
        await asyncio.gather(*(pool.ensure_zygote() for pool in self.pools.values()
                               if pool.snapstart))
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
