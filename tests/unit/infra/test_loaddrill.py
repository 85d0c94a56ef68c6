"""The overload drill's judgement on recorded requests: what counts as an error, as fast
throttling, and as recovery."""

from __future__ import annotations

from pathlib import Path

from localcloud.loaddrill import Drill, Sample, back_under, judge, read_samples
from localcloud.loadgate import GATES

DRILL = Drill(GATES["optimisation"])


def steady(start: float, end: float, ms: float, status: int = 200) -> list[Sample]:
    """Ten requests a second between `start` and `end`."""
    return [Sample(start + i / 10, ms, status, "/courses")
            for i in range(int((end - start) * 10))]


def run(overload_ms: float, after_ms: float, throttled_ms: float = 5.0,
        extra: list[Sample] | None = None) -> list[Sample]:
    return (steady(0, DRILL.overload_start, 20)
            + steady(DRILL.overload_start, DRILL.overload_end, overload_ms)
            + steady(DRILL.overload_start, DRILL.overload_end, throttled_ms, status=429)
            + steady(DRILL.overload_end, DRILL.overload_end + 5, 900)
            + steady(DRILL.overload_end + 5, DRILL.end, after_ms)
            + (extra or []))


def test_slow_but_answered_overload_with_fast_throttling_and_recovery_passes() -> None:
    verdict = judge(DRILL, run(overload_ms=1500, after_ms=30), quiet_s=0.5)
    assert verdict.passed, verdict.misses
    assert any("back under the bound: after 5 s" in line for line in verdict.lines)


def test_gateway_timeouts_and_unanswered_requests_are_errors() -> None:
    errors = [Sample(DRILL.overload_start + 1, 29000, 504, "/courses"),
              Sample(DRILL.overload_start + 2, 100, 0, "/courses/[id]/enroll"),
              Sample(DRILL.overload_start + 3, 100, 409, "/courses/[id]/enroll"),
              Sample(DRILL.overload_start + 3, 100, 403, "/me/enrollments")]
    verdict = judge(DRILL, run(1500, 30, extra=errors), quiet_s=0.5)
    assert verdict.misses == ["3 errors (504 /courses x1, no answer /courses/[id]/enroll x1, "
                              "403 /me/enrollments x1)"]


def test_slow_throttling_fails() -> None:
    verdict = judge(DRILL, run(1500, 30, throttled_ms=10_000), quiet_s=0.5)
    assert verdict.misses == ["throttled answers p99 10000 ms (needs < 1500)"]


def test_latency_that_outlives_the_overload_fails_unless_a_core_is_taken() -> None:
    samples = run(overload_ms=1500, after_ms=800)
    assert judge(DRILL, samples, quiet_s=0.5).misses == [
        "p99 800 ms from 15 s after the overload on (needs < 200)"]
    assert judge(DRILL, samples, quiet_s=0.5, recovery=False).passed
    assert back_under(samples, DRILL.overload_end, DRILL.end, 200) is None


def test_a_stack_still_busy_after_the_load_fails() -> None:
    verdict = judge(DRILL, run(1500, 30), quiet_s=None)
    assert verdict.misses == ["/health not quiet within 15 s of the end"]


def test_phases_offer_three_times_the_gate_then_the_gate_again() -> None:
    (first_end, users, _), (over_end, over_users, _), (end, after_users, _) = DRILL.phases()
    assert over_users == 3 * users and after_users == users
    assert (first_end, over_end, end) == (DRILL.overload_start, DRILL.overload_end, DRILL.end)


def test_samples_are_timed_from_the_run_start(tmp_path: Path) -> None:
    path = tmp_path / "samples.csv"
    path.write_text("start,ms,status,name\n1000.000,0,0,__test_start__\n"
                    "1002.500,12.5,200,/courses\n1003.000,3.0,429,/auth/login\n")
    assert read_samples(path) == [Sample(2.5, 12.5, 200, "/courses"),
                                  Sample(3.0, 3.0, 429, "/auth/login")]
