"""pynamodb models for our single-table designs: every item has `pk` and `sk`.

pynamodb fixes a model's table at class creation, and the table name, endpoint and region
come from settings, so item models are declared inside a factory on a base from here.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import UnicodeAttribute
from pynamodb.connection import Connection, TableConnection
from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.models import Model

from edu.adapters.local_signing import sign_locally_with_placeholders
from edu.config import get_settings

# Answer within the function's time (10 s) when DynamoDB hangs: pynamodb waits 30 s per read
# by default, three times. Two tries of 3 s, then a 503.
CONNECT_TIMEOUT_S = 2
READ_TIMEOUT_S = 3
MAX_RETRY_ATTEMPTS = 1

_clients: dict[tuple[str | None, str], Any] = {}


def shared_client(host: str | None, region: str) -> Any:
    """The process's one botocore DynamoDB client, for every model and transaction.

    pynamodb gives each model class its own connection, botocore session and client, so a
    process loaded DynamoDB's service model once per model class it used (~35 ms each, on
    the first request of every new worker) and kept a connection pool per class. Built
    without opening a socket, so SnapStart priming can build it (edu.services)."""
    key = (host, region)
    if key not in _clients:
        client = _configured(host, region).client
        sign_locally_with_placeholders(client, host, get_settings().aws_placeholder_signature)
        _clients[key] = client
    return _clients[key]


def connection(host: str | None, region: str) -> Connection:
    """A connection for transactions, on the shared client."""
    conn = _configured(host, region)
    conn._client = shared_client(host, region)
    return conn


def _configured(host: str | None, region: str) -> Connection:
    return Connection(region=region, host=host, connect_timeout_seconds=CONNECT_TIMEOUT_S,
                      read_timeout_seconds=READ_TIMEOUT_S, max_retry_attempts=MAX_RETRY_ATTEMPTS)


def keyed_base(table_: str, host_: str | None, region_: str) -> type[Model]:
    """A model base bound to one table, with its `pk` (hash) and `sk` (range) keys."""

    class Keyed(Model):
        class Meta:
            table_name = table_
            host = host_
            region = region_
            connect_timeout_seconds = CONNECT_TIMEOUT_S
            read_timeout_seconds = READ_TIMEOUT_S
            max_retry_attempts = MAX_RETRY_ATTEMPTS

        pk = UnicodeAttribute(hash_key=True)
        sk = UnicodeAttribute(range_key=True)

        @classmethod
        def _get_connection(cls) -> TableConnection:
            table = super()._get_connection()
            if table.connection._client is None:
                table.connection._client = shared_client(host_, region_)
            return table

    return Keyed


def condition_failed(exc: PynamoDBException) -> bool:
    """Whether a single-item write was refused by its condition (not an error)."""
    return exc.cause_response_code == "ConditionalCheckFailedException"


def failed_conditions(exc: TransactWriteError) -> list[int]:
    """The positions of a cancelled transaction's operations whose condition failed.
    pynamodb sends puts before updates, whatever the order they were added in."""
    return [i for i, r in enumerate(exc.cancellation_reasons or [])
            if r is not None and r.code == "ConditionalCheckFailed"]
