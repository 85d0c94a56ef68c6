"""Consumer retry delays double per receive and stay within SQS's visibility limit."""

from edu.adapters.sqs_backoff import MAX_DELAY_S, backoff_delay


def test_delay_doubles_per_attempt_and_is_capped() -> None:
    assert [backoff_delay(n, 10) for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert backoff_delay(0, 10) == 10  # a missing receive count counts as the first
    assert backoff_delay(40, 10) == MAX_DELAY_S
    assert backoff_delay(3, 0) == 0
