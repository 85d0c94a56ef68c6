"""The roadmap's stage gates as named load checks (`edu load --gate NAME`).

Each gate runs the student mix (StudentUser only) with enough simulated users to offer its
target rate (a StudentUser sends about 1.4 requests a second: think time 0.5-2 s between
tasks of one to three requests; measured: 590 req/s from 417 students at p50 11 ms), lets
the system settle for `settle_s` once every user has started (each user signs in once when it
starts: argon2, slow by design; the ramp's sign-ins leave a backlog), resets Locust's
statistics, measures for `measure_s`, then judges the aggregate row.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

REQUESTS_PER_USER_S = 1.4  # StudentUser's offered rate (measured, see above)


@dataclass(frozen=True)
class Gate:
    name: str
    rps: float
    p99_ms: float
    summary: str
    measure_s: int = 60
    settle_s: int = 15
    # Users offer this much more than the target rate, so that run-to-run noise in the
    # offered rate (about ±5% here) does not fail the throughput criterion.
    headroom: float = 1.1

    @property
    def users(self) -> int:
        return math.ceil(self.rps * self.headroom / REQUESTS_PER_USER_S)

    @property
    def spawn_rate(self) -> float:
        return float(max(5, math.ceil(self.users / 30)))  # all started within ~30 s


GATES = {gate.name: gate for gate in (
    Gate("mvp", 50, 1000, "roadmap MVP: a working product (it degrades near 50-100 RPS)"),
    Gate("optimisation", 500, 200,
         "roadmap exit of the optimisation stage: 500 RPS, p99 < 200 ms, 0 errors, 1 minute"),
    Gate("goal", 1000, 100, "our goal: 1,000 RPS with p99 < 100 ms, 0 errors, 1 minute"),
)}


def judge(gate: Gate, total: Mapping[str, str]) -> list[str]:
    """What the aggregate row of Locust's stats CSV misses of the gate; empty when it
    passes."""
    requests = int(total["Request Count"])
    if requests == 0:
        return ["no requests were measured"]
    misses = []
    rps = float(total["Requests/s"])
    if rps < gate.rps:
        misses.append(f"{rps:.0f} req/s (needs >= {gate.rps:.0f})")
    p99 = total["99%"]
    if p99 in ("", "N/A") or float(p99) >= gate.p99_ms:
        misses.append(f"p99 {p99} ms (needs < {gate.p99_ms:.0f})")
    errors = int(total["Failure Count"])
    if errors:
        misses.append(f"{errors} errors of {requests} (needs 0)")
    return misses
