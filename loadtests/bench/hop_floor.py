"""The floor of a process hop: uvicorn forwarding each request to another process.

An ASGI app for uvicorn that does the least any runtime isolating handlers in their own
processes must do: per request, hand a few bytes to an idle worker process (one request at
a time per worker, as Lambda does), wait for its answer and send it back. No API Gateway
event is built in the server, nothing is serialised but the path and the body, no limits,
logs or metrics. The workers call the benchmark's real handler (bare or FastAPI + Mangum)
with an event built once. What this serves per second bounds what a runtime with process
isolation can serve with the same HTTP server on the same machine.

    HOP_FLOOR_HANDLER=bare uvicorn --app-dir loadtests/bench hop_floor:app
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import subprocess
import sys
from collections import deque
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
HEADER = struct.Struct("!I")
HANDLERS = {"bare": ("bare", "/bare"), "fastapi": ("fastapi_app", "/fastapi")}


class Channel(asyncio.Protocol):
    """The server's end of one worker's socket: length-prefixed frames."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.waiter: asyncio.Future[bytes] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) < HEADER.size:
            return
        (size,) = HEADER.unpack_from(self.buffer)
        if len(self.buffer) >= HEADER.size + size and self.waiter is not None:
            body = bytes(self.buffer[HEADER.size:HEADER.size + size])
            del self.buffer[:HEADER.size + size]
            self.waiter.set_result(body)
            self.waiter = None

    async def call(self, payload: bytes) -> bytes:
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(HEADER.pack(len(payload)) + payload)
        return await self.waiter


class Workers:
    def __init__(self) -> None:
        self.idle: deque[Channel] = deque()
        self.waiting: deque[asyncio.Future[Channel]] = deque()
        self.procs: list[subprocess.Popen[bytes]] = []

    async def start(self, count: int, handler: str) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(count):
            ours, theirs = socket.socketpair()
            self.procs.append(subprocess.Popen(
                [sys.executable, __file__, "--worker", str(theirs.fileno()), handler],
                pass_fds=[theirs.fileno()]))
            theirs.close()
            _, channel = await loop.create_unix_connection(Channel, sock=ours)
            self.idle.append(channel)

    async def acquire(self) -> Channel:
        if self.idle:
            return self.idle.pop()
        waiter: asyncio.Future[Channel] = asyncio.get_running_loop().create_future()
        self.waiting.append(waiter)
        return await waiter

    def release(self, channel: Channel) -> None:
        if self.waiting:
            self.waiting.popleft().set_result(channel)
        else:
            self.idle.append(channel)

    def stop(self) -> None:
        for proc in self.procs:
            proc.kill()


WORKERS = Workers()
HEADERS = [(b"content-type", b"application/json")]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await WORKERS.start(int(os.environ.get("HOP_FLOOR_WORKERS", "10")),
                                    os.environ.get("HOP_FLOOR_HANDLER", "bare"))
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                WORKERS.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return
    channel = await WORKERS.acquire()
    try:
        body = await channel.call(scope["path"].encode())
    finally:
        WORKERS.release(channel)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": body})


def worker(fd: int, handler_name: str) -> None:
    """A worker: blocking reads, the handler called with an event built once."""
    sys.path.insert(0, str(HERE / "functions"))
    sys.path.insert(0, str(HERE))
    from runtime_bench import _Ctx, http_event

    module, path = HANDLERS[handler_name]
    handler = __import__(module).handler
    event, context = http_event(path), _Ctx()
    sock = socket.socket(fileno=fd)
    buffer = bytearray()
    def frame_end() -> int:
        if len(buffer) < HEADER.size:
            return sys.maxsize
        return HEADER.size + HEADER.unpack_from(buffer)[0]

    while True:
        while len(buffer) < frame_end():
            chunk = sock.recv(65536)
            if not chunk:
                return
            buffer += chunk
        del buffer[:frame_end()]
        body = handler(event, context)["body"].encode()
        sock.sendall(HEADER.pack(len(body)) + body)


if __name__ == "__main__" and sys.argv[1:2] == ["--worker"]:
    worker(int(sys.argv[2]), sys.argv[3])
