"""Scheduled sweep: publishes outbox events that the per-request flush did not."""

from typing import Any

from edu.services import outbox_relay


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    published = 0
    while True:
        batch = outbox_relay().relay(limit=100)
        published += batch
        if batch < 100 or context.get_remaining_time_in_millis() < 5000:
            return {"published": published}
