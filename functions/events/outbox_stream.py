"""The outbox table's stream -> the event bus: publishes the events DynamoDB producers
committed, in stream order, and deletes their items. A batch that fails part way reports
the first record not published; the stream mapping retries from there."""

from typing import Any

from edu.adapters.registry import get_adapters
from edu.services import dynamo_outbox


def handler(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    unpublished = dynamo_outbox(get_adapters()).relay_records(event.get("Records") or [])
    return {"batchItemFailures": [] if unpublished is None
            else [{"itemIdentifier": unpublished}]}
