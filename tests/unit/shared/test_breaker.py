"""The circuit breaker opens after repeated failures, waits, then tries once."""

from edu.breaker import CircuitBreaker


def test_opens_after_the_threshold_and_recovers_through_one_trial() -> None:
    now = [0.0]
    breaker = CircuitBreaker(failure_threshold=2, reset_after_s=10, clock=lambda: now[0])
    assert breaker.allow()
    breaker.failure()
    assert breaker.allow() and breaker.state == "closed"  # one failure is not a pattern
    breaker.failure()
    assert breaker.state == "open" and not breaker.allow()
    now[0] = 9.9
    assert not breaker.allow()
    now[0] = 10.0
    assert breaker.allow() and breaker.state == "half-open"
    assert not breaker.allow()  # only one trial at a time
    breaker.failure()  # the trial failed: open for another period
    assert breaker.state == "open" and not breaker.allow()
    now[0] = 20.0
    assert breaker.allow()
    breaker.success()
    assert breaker.state == "closed" and breaker.allow()


def test_a_success_resets_the_failure_count() -> None:
    breaker = CircuitBreaker(failure_threshold=2)
    breaker.failure()
    breaker.success()
    breaker.failure()
    assert breaker.state == "closed"
