"""Scheduled sweep: publishes PostgreSQL outbox rows the per-request flush did not (a crash,
EventBridge failing) and DynamoDB outbox items the stream relay has left for minutes."""

from typing import Any

from edu.services import relay_outboxes

BATCH = 100


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    published: dict[str, int] = {}
    while True:
        sent = relay_outboxes(limit=BATCH)
        for source, count in sent.items():
            published[source] = published.get(source, 0) + count
        if max(sent.values()) < BATCH or context.get_remaining_time_in_millis() < 5000:
            return published
