"""The processes behind a function pool: a worker is one OS process running bootstrap.py for
one function, spoken to over a Unix socket in length-prefixed JSON frames; started from
scratch (a full cold start) or forked from the function's initialised zygote ("SnapStart")."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import struct
from collections import deque
from pathlib import Path
from typing import Any

import orjson

BOOTSTRAP = Path(__file__).with_name("bootstrap.py")
FRAME_HEADER = struct.Struct(">I")  # a frame's length, before its JSON


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
        while len(buffer) >= FRAME_HEADER.size:
            (size,) = FRAME_HEADER.unpack_from(buffer)
            end = FRAME_HEADER.size + size
            if len(buffer) < end:
                break
            self.frames.append(bytes(buffer[FRAME_HEADER.size:end]))
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
        self.transport.write(FRAME_HEADER.pack(len(data)) + data)

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
                header = await self.reader.readexactly(FRAME_HEADER.size)
                (size,) = FRAME_HEADER.unpack(header)
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
