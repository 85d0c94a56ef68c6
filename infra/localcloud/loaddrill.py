"""The overload drill (`edu load --drill overload`): does the stack shed load it cannot
serve quickly and cleanly, and recover as soon as the load is gone?

The student mix runs at `normal` (70%) of the optimisation gate's user count (a load the
machine serves within the gate's bound, so that what follows measures recovery, not the
machine's headroom), then at `factor` times as many users for `overload_s` seconds (the
extra users sign in as they arrive: a flash crowd's argon2 bill included), then at the
normal count again. Every request's start, duration and
status are recorded (loadtests/locustfile.py, EDU_LOAD_SAMPLES) and judged here:

- at no time an error: no 5xx other than 503, no unanswered request, no 4xx the mix does not
  expect; only throttling (429/503) may answer what the stack cannot serve, and it must
  answer fast (its p99 under `fast_ms`), never after a long wait;
- from `recover_s` seconds after the overload on, the p99 is under the gate's bound again;
- once the load stops, nothing lingers: /health answers fast within `recover_s` seconds.
"""

from __future__ import annotations

import csv
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from localcloud.loadgate import Gate

THROTTLED = (429, 503)
EXPECTED_4XX = (409,)  # an enrollment that exists already: the mix treats it as done
WINDOW_S = 5.0


@dataclass(frozen=True)
class Sample:
    start: float    # seconds since the run started
    ms: float
    status: int     # 0: no answer (connection error, client timeout)
    name: str

    @property
    def throttled(self) -> bool:
        return self.status in THROTTLED

    @property
    def error(self) -> bool:
        return not (200 <= self.status < 400 or self.throttled
                    or self.status in EXPECTED_4XX)


@dataclass(frozen=True)
class Drill:
    gate: Gate
    normal: float = 0.7        # of the gate's users
    factor: float = 3.0
    baseline_s: float = 20.0   # measured before the overload
    overload_s: float = 30.0
    after_s: float = 45.0      # at the gate's user count again
    recover_s: float = 15.0    # the p99 must be back under the gate's bound by then
    fast_ms: float = 1500.0    # throttling answers within this (p99): the 1 s queue bound
    spawn_s: float = 5.0       # the overload's extra users arrive within this

    @property
    def users(self) -> int:
        return math.ceil(self.gate.users * self.normal)

    @property
    def overload_start(self) -> float:
        return self.users / self.gate.spawn_rate + self.gate.settle_s + self.baseline_s

    @property
    def overload_end(self) -> float:
        return self.overload_start + self.overload_s

    @property
    def end(self) -> float:
        return self.overload_end + self.after_s

    def phases(self) -> list[list[float]]:
        """The load shape: [until_s, users, spawn_rate] (loadtests/overload.py)."""
        users = self.users
        extra = math.ceil(users * (self.factor - 1))
        return [[self.overload_start, users, self.gate.spawn_rate],
                [self.overload_end, users + extra, math.ceil(extra / self.spawn_s)],
                [self.end, users, float(users)]]


def read_samples(path: Path) -> list[Sample]:
    """The recorded requests, their start relative to the run's start (the row Locust's
    test_start wrote, or the first request)."""
    rows = list(csv.DictReader(path.open()))
    marks = [float(r["start"]) for r in rows if r["name"] == "__test_start__"]
    requests = [r for r in rows if r["name"] != "__test_start__"]
    t0 = marks[0] if marks else min((float(r["start"]) for r in requests), default=0.0)
    return [Sample(float(r["start"]) - t0, float(r["ms"]), int(r["status"]), r["name"])
            for r in requests]


def p99(values: Iterable[float]) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]


@dataclass
class Verdict:
    misses: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.misses


def back_under(samples: list[Sample], since: float, until: float,
               bound_ms: float) -> float | None:
    """Seconds after `since` until the first 5-second window whose p99 is under `bound_ms`
    (windows slide by a second up to `until`); None if none is."""
    t = since
    while t + WINDOW_S <= until:
        inside = [s.ms for s in samples if t <= s.start < t + WINDOW_S]
        if inside and p99(inside) < bound_ms:
            return t - since
        t += 1.0
    return None


def quiet_after(url: str, bound_ms: float, within_s: float) -> float | None:
    """Seconds until `url` answers 200 under `bound_ms` four times in a row once the load
    has stopped (queued work, starting workers and timed-out invocations would delay it);
    None if not within `within_s`."""
    import httpx

    started = time.monotonic()
    streak = 0
    with httpx.Client(timeout=within_s) as client:
        while time.monotonic() - started < within_s:
            asked = time.monotonic()
            try:
                ok = client.get(url).status_code == 200
            except httpx.HTTPError:
                ok = False
            streak = streak + 1 if ok and (time.monotonic() - asked) * 1000 < bound_ms else 0
            if streak == 4:
                return time.monotonic() - started
            time.sleep(0.25)
    return None


def shedding_misses(samples: list[Sample], fast_ms: float) -> list[str]:
    """What the answers miss of clean shedding: any error, or throttling that was slow."""
    misses = []
    errors = [s for s in samples if s.error]
    if errors:
        kinds: dict[str, int] = {}
        for s in errors:
            key = f"{s.status or 'no answer'} {s.name}"
            kinds[key] = kinds.get(key, 0) + 1
        top = ", ".join(f"{k} x{v}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])[:5])
        misses.append(f"{len(errors)} errors ({top})")
    throttled_p99 = p99(s.ms for s in samples if s.throttled)
    if throttled_p99 >= fast_ms:
        misses.append(f"throttled answers p99 {throttled_p99:.0f} ms (needs < {fast_ms:.0f})")
    return misses


def quiet_misses(quiet_s: float | None, within_s: float, lines: list[str]) -> list[str]:
    """quiet_after's result as a miss (or a line of the report)."""
    if quiet_s is None:
        return [f"/health not quiet within {within_s:.0f} s of the end"]
    lines.append(f"/health quiet {quiet_s:.1f} s after the load stopped")
    return []


def judge(drill: Drill, samples: list[Sample], quiet_s: float | None,
          recovery: bool = True) -> Verdict:
    """The drill's verdict. `quiet_s`: quiet_after once the load stopped. `recovery`: judge
    the p99's return under the gate's bound (not when another process takes a core: the
    gate's own load is then more than the machine serves)."""
    verdict = Verdict()
    phases = {
        "baseline": (drill.overload_start - drill.baseline_s, drill.overload_start),
        "overload": (drill.overload_start, drill.overload_end),
        "after": (drill.overload_end, drill.end),
    }
    for phase, (start, end) in phases.items():
        inside = [s for s in samples if start <= s.start < end]
        served = [s for s in inside if not s.throttled and not s.error]
        throttled = [s for s in inside if s.throttled]
        verdict.lines.append(
            f"{phase:<9} {len(inside) / max(end - start, 1):6.0f} req/s offered, "
            f"{len(served) / max(end - start, 1):6.0f} served, p99 "
            f"{p99(s.ms for s in served):7.0f} ms; {len(throttled)} throttled "
            f"(p99 {p99(s.ms for s in throttled):.0f} ms); "
            f"{sum(s.error for s in inside)} errors")
    verdict.misses += shedding_misses(samples, drill.fast_ms)
    verdict.misses += quiet_misses(quiet_s, drill.recover_s, verdict.lines)
    back = back_under(samples, drill.overload_end, drill.end, drill.gate.p99_ms)
    settled = [x.ms for x in samples
               if drill.overload_end + drill.recover_s <= x.start < drill.end]
    settled_p99 = p99(settled)
    verdict.lines.append(
        "p99 back under the bound: " + ("never" if back is None else f"after {back:.0f} s")
        + f"; p99 from {drill.recover_s:.0f} s after the overload on: {settled_p99:.0f} ms")
    if not recovery:
        verdict.lines.append("(recovery not judged: another process takes a core, so the "
                             "gate's own load is more than the machine serves)")
    elif not settled or settled_p99 >= drill.gate.p99_ms:
        verdict.misses.append(f"p99 {settled_p99:.0f} ms from {drill.recover_s:.0f} s after "
                              f"the overload on (needs < {drill.gate.p99_ms:.0f})")
    return verdict
