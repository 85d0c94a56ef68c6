"""Each function's log lines (its output and the runtime's START/END/REPORT lines) kept in a
file of its own under the stack's home, so `edu logs` can show, filter and follow them as
`sam logs` does CloudWatch's. Lines are written with their time, buffered, and flushed at
least once a second; a file past ROTATE_BYTES moves to `<name>.log.1`."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

FLUSH_EVERY_S = 1.0
ROTATE_BYTES = 20 * 2**20
_SINCE = re.compile(r"^(\d+)([smhd])$")


class FunctionLogs:
    """Writes the lines of many functions, a file each."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._files: dict[str, IO[str]] = {}
        self._sizes: dict[str, int] = {}  # characters in each open file (bytes, near enough)
        self._flushed = time.monotonic()
        self._last = datetime.now(UTC)

    def sink(self, function: str, also: Callable[[str], None]) -> Callable[[str], None]:
        """A log sink for `function` that keeps each line, then passes it on to `also`."""
        def write(line: str) -> None:
            self.write(function, line)
            also(line)
        return write

    def write(self, function: str, line: str) -> None:
        out = self._files.get(function)
        if out is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.folder / f"{function}.log"
            out = self._files[function] = path.open("a")
            self._sizes[function] = path.stat().st_size
        now = datetime.now(UTC)
        if now <= self._last:  # strictly increasing: lines of all functions sort in order
            now = self._last + timedelta(microseconds=1)
        self._last = now
        text = f"{now.isoformat(timespec='microseconds')} {line}\n"
        out.write(text)
        # counted here: a text file's tell() flushes it, a write per line
        self._sizes[function] += len(text)
        if self._sizes[function] > ROTATE_BYTES:
            out.close()
            path = self.folder / f"{function}.log"
            path.replace(path.with_suffix(".log.1"))
            del self._files[function]
        if time.monotonic() - self._flushed >= FLUSH_EVERY_S:
            self.flush()

    def flush(self) -> None:
        for out in self._files.values():
            out.flush()
        self._flushed = time.monotonic()

    def close(self) -> None:
        for out in self._files.values():
            out.close()
        self._files.clear()


def parse_since(text: str) -> timedelta:
    """`30s`, `10m`, `2h`, `1d`."""
    found = _SINCE.match(text.strip())
    if not found:
        raise ValueError(f"--since {text!r}: give a number and s, m, h or d (e.g. 10m)")
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[found.group(2)]
    return timedelta(**{unit: int(found.group(1))})


@dataclass(frozen=True)
class LogLine:
    at: str  # ISO-8601 UTC, sorts in time order
    function: str
    text: str


def read_lines(folder: Path, function: str | None = None, since: timedelta | None = None,
               contains: str | None = None) -> list[LogLine]:
    """The kept lines (of one function, or all) in time order."""
    cutoff = (datetime.now(UTC) - since).isoformat(timespec="microseconds") if since else ""
    lines = [line for path in _files(folder, function)
             for line in _matching(path, path.read_text(errors="replace"), contains)
             if line.at >= cutoff]
    return sorted(lines, key=lambda line: line.at)


def follow(folder: Path, function: str | None, contains: str | None,
           poll_s: float = 0.5) -> Iterator[LogLine]:
    """New lines as they are written (until interrupted)."""
    offsets = {p: p.stat().st_size for p in _files(folder, function)}
    while True:
        time.sleep(poll_s)
        for path in _files(folder, function):
            size = path.stat().st_size
            start = offsets.get(path, 0)
            if size < start:  # rotated: the file is new
                start = 0
            if size > start:
                with path.open() as text:
                    text.seek(start)
                    chunk = text.read()
                consumed = chunk.rfind("\n") + 1  # a half-written line waits
                offsets[path] = start + consumed
                yield from _matching(path, chunk[:consumed], contains)
            else:
                offsets[path] = start


def _files(folder: Path, function: str | None) -> list[Path]:
    if function is not None:
        return [p for p in (folder / f"{function}.log.1", folder / f"{function}.log")
                if p.exists()]
    return sorted(folder.glob("*.log*")) if folder.exists() else []


def _matching(path: Path, text: str, contains: str | None) -> Iterator[LogLine]:
    """The lines of a chunk of `path` (a function's file) that contain `contains`."""
    function = path.name.split(".log", 1)[0]
    for raw in text.splitlines():
        at, _, line = raw.partition(" ")
        if (at or line) and (not contains or contains in line):
            yield LogLine(at, function, line)
