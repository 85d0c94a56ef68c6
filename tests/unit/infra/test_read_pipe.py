"""A forked worker's log pipe is read as a stream and its descriptor closed once, at end of
file: a second close (uvloop's pipe transports close theirs twice) takes the number from
whoever was given it in between."""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
import uvloop

from localcloud.runtime.workers import read_pipe

LOOPS: dict[str, Callable[[Coroutine[Any, Any, None]], None]] = {
    "uvloop": uvloop.run, "asyncio": asyncio.run}


def is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


@pytest.mark.parametrize("run", LOOPS.values(), ids=LOOPS.keys())
def test_lines_arrive_and_end_of_file_closes_the_descriptor_once(
        run: Callable[[Coroutine[Any, Any, None]], None]) -> None:
    async def scenario() -> None:
        read_end, write_end = os.pipe()
        stream = read_pipe(read_end)
        os.write(write_end, b"first line\nsecond ")
        os.write(write_end, b"line\n" + b"x" * 30_000 + b"\n")  # within the pipe's buffer
        os.close(write_end)
        assert await stream.readline() == b"first line\n"
        assert await stream.readline() == b"second line\n"
        assert await stream.readexactly(30_001) == b"x" * 30_000 + b"\n"
        assert await stream.readline() == b""  # end of file
        assert not is_open(read_end)

        # The freed number goes to the next descriptor opened; nothing may close it now.
        reused, other = os.pipe()
        assert reused == read_end
        del stream
        for _ in range(3):
            gc.collect()
            await asyncio.sleep(0.01)
        assert is_open(reused) and is_open(other)
        os.close(reused)
        os.close(other)

    run(scenario())


@pytest.mark.parametrize("run", LOOPS.values(), ids=LOOPS.keys())
def test_a_writer_that_dies_without_writing_ends_the_stream(
        run: Callable[[Coroutine[Any, Any, None]], None]) -> None:
    async def scenario() -> None:
        read_end, write_end = os.pipe()
        stream = read_pipe(read_end)
        os.close(write_end)
        assert await asyncio.wait_for(stream.read(), 5) == b""
        assert not is_open(read_end)

    run(scenario())
