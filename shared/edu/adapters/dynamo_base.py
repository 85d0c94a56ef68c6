"""pynamodb models for our single-table designs: every item has `pk` and `sk`.

pynamodb fixes a model's table at class creation, and the table name, endpoint and region
come from settings, so item models are declared inside a factory on a base from here.
"""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.models import Model


def keyed_base(table_: str, host_: str | None, region_: str) -> type[Model]:
    """A model base bound to one table, with its `pk` (hash) and `sk` (range) keys."""

    class Keyed(Model):
        class Meta:
            table_name = table_
            host = host_
            region = region_
            # Answer within the function's time (10 s) when DynamoDB hangs: pynamodb waits
            # 30 s per read by default, three times. Two tries of 3 s, then a 503.
            connect_timeout_seconds = 2
            read_timeout_seconds = 3
            max_retry_attempts = 1

        pk = UnicodeAttribute(hash_key=True)
        sk = UnicodeAttribute(range_key=True)

    return Keyed


def condition_failed(exc: PynamoDBException) -> bool:
    """Whether a single-item write was refused by its condition (not an error)."""
    return exc.cause_response_code == "ConditionalCheckFailedException"


def failed_conditions(exc: TransactWriteError) -> list[int]:
    """The positions of a cancelled transaction's operations whose condition failed.
    pynamodb sends puts before updates, whatever the order they were added in."""
    return [i for i, r in enumerate(exc.cancellation_reasons or [])
            if r is not None and r.code == "ConditionalCheckFailed"]
