"""Consumer retry delays double per receive and stay within SQS's visibility limit."""

from edu.adapters.sqs_backoff import MAX_DELAY_S, backoff_delay, base_outlasting, retry_span_s


def test_delay_doubles_per_attempt_and_is_capped() -> None:
    assert [backoff_delay(n, 10) for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert backoff_delay(0, 10) == 10  # a missing receive count counts as the first
    assert backoff_delay(40, 10) == MAX_DELAY_S
    assert backoff_delay(3, 0) == 0


def test_retry_span_sums_the_delays_between_receives() -> None:
    assert retry_span_s(5, 10) == 10 + 20 + 40 + 80
    assert retry_span_s(1, 10) == 0  # one receive: straight to the DLQ on failure


def test_base_outlasting_an_outage_is_the_smallest_that_covers_it() -> None:
    assert base_outlasting(15, 5) == 1  # 1 + 2 + 4 + 8
    assert base_outlasting(16, 5) == 2
    assert base_outlasting(20, 5) == 2  # 2 + 4 + 8 + 16 = 30
    assert retry_span_s(3, base_outlasting(20, 3)) >= 20 > retry_span_s(
        3, base_outlasting(20, 3) - 1)
