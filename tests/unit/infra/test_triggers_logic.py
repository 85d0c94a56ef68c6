from datetime import UTC, datetime

import pytest

from localcloud.runtime.schedules import CronSchedule, RateSchedule, parse_schedule
from localcloud.runtime.trigger import batch_failures, internal_queue_name
from localcloud.template import EventSource, Function


def test_partial_batch_response_parsing() -> None:
    ids = {"a", "b", "c"}
    assert batch_failures(None, ids) == set()
    assert batch_failures({}, ids) == set()
    assert batch_failures({"batchItemFailures": []}, ids) == set()
    assert batch_failures({"batchItemFailures": [{"itemIdentifier": "b"}]}, ids) == {"b"}
    # Invalid answers fail the whole batch, as on AWS.
    assert batch_failures({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, ids) is None
    assert batch_failures({"batchItemFailures": [{"itemIdentifier": ""}]}, ids) is None
    assert batch_failures({"batchItemFailures": "b"}, ids) is None


def test_rate_expressions() -> None:
    assert isinstance(parse_schedule("rate(5 minutes)"), RateSchedule)
    assert parse_schedule("rate(1 hour)").seconds == 3600  # type: ignore[attr-defined]
    assert parse_schedule("rate(2 days)").seconds == 172800  # type: ignore[attr-defined]
    with pytest.raises(ValueError):
        parse_schedule("every now and then")


def test_cron_fields_follow_aws_rules() -> None:
    cron = CronSchedule("0/15 8-17 ? * MON-FRI *")
    friday_9 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    assert cron.matches(friday_9)
    assert not cron.matches(friday_9.replace(minute=7))
    assert not cron.matches(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))  # Saturday
    assert cron.next_after(datetime(2026, 11, 27, 17, 50, tzinfo=UTC)) == datetime(
        2026, 11, 30, 8, 0, tzinfo=UTC)  # next Monday 08:00


def test_cron_rejects_what_it_cannot_evaluate() -> None:
    with pytest.raises(ValueError, match="6 fields"):
        CronSchedule("* * * * *")
    with pytest.raises(ValueError, match="L, W and #"):
        CronSchedule("0 0 L * ? *")
    with pytest.raises(ValueError, match="out of range"):
        CronSchedule("61 0 * * ? *")


def test_internal_queue_names_fit_sqs_limits() -> None:
    from pathlib import Path

    fn = Function("F" * 70, "a.b", Path("."), "python3.12", 128, 3, {}, [], None, False, [])
    name = internal_queue_name(fn, EventSource("Evt" * 10, "S3", {}), "-dlq")
    assert len(name) <= 80 and name.endswith("-dlq")
