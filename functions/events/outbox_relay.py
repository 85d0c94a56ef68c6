"""Scheduled sweep: publishes outbox events (PostgreSQL rows, DynamoDB outbox items) that
the per-request flush did not, e.g. after a crash or while EventBridge was failing."""

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
