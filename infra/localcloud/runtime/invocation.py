"""What every part of the runtime says about an invocation: its request id, its result, the
ways it can be refused, and the log sink its lines go to."""

from __future__ import annotations

import asyncio
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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
