"""The moto server's collector policy: survivors frozen every period, frozen cycles reclaimed
by one full collection once the process is idle after work."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from localcloud.moto_server import GcFreezer


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cycle collector frees it


class CpuClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Iterator[CpuClock]:
    yield CpuClock()
    gc.unfreeze()


def frozen_garbage(freezer: GcFreezer, clock: CpuClock) -> weakref.ref[Node]:
    """A cycle frozen while in use by a busy period's tick, then dropped."""
    node = Node()
    clock.now += 10 * freezer.every_s  # busy: a full core
    assert freezer.tick() is False
    ref = weakref.ref(node)
    del node
    gc.collect()  # the collector cannot see frozen objects
    assert ref() is not None
    return ref


def test_a_busy_period_freezes_survivors_without_a_full_collection(clock: CpuClock) -> None:
    freezer = GcFreezer(every_s=5.0, cpu_clock=clock)
    before = gc.get_freeze_count()
    kept = [Node() for _ in range(1000)]
    clock.now += 5.0
    assert freezer.tick() is False
    assert gc.get_freeze_count() >= before + len(kept)


def test_idle_after_work_reclaims_frozen_cycles(clock: CpuClock) -> None:
    freezer = GcFreezer(every_s=5.0, cpu_clock=clock)
    ref = frozen_garbage(freezer, clock)
    clock.now += 0.01  # idle period (queue long-polls)
    assert freezer.tick() is True
    assert ref() is None
    clock.now += 0.01  # still idle, but no work since that collection: none again
    assert freezer.tick() is False


def test_idle_without_enough_work_waits(clock: CpuClock) -> None:
    freezer = GcFreezer(every_s=5.0, cpu_clock=clock)
    freezer.WORK_BEFORE_FULL_S = 100.0
    ref = frozen_garbage(freezer, clock)
    clock.now += 0.01
    assert freezer.tick() is False
    assert ref() is not None
