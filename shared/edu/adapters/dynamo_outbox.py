"""A transactional outbox for DynamoDB producers (identity, enrollment): an event is written
as an item in the same TransactWriteItems as the change it reports, so a committed change
always has its event. After the commit the request publishes it and deletes the item
(`flush`); whatever that misses (a crash, an EventBridge outage) the scheduled relay sweeps.

    OUTBOX#<shard> / <occurred_at>#<event id>    the envelope (TTL 14 days, a safety net)

Events spread over a few shard partitions so one hot partition does not take every write;
the relay reads each shard oldest first. Delivery is at least once: consumers dedupe on id.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from edu.adapters.dynamo_base import keyed_base
from edu.events import Envelope, EventPublisher

SHARDS = 4
RETENTION = timedelta(days=14)


@cache
def outbox_model(table_: str, host_: str | None, region_: str) -> Any:
    base = keyed_base(table_, host_, region_)

    class OutboxItem(base):  # type: ignore[valid-type,misc]
        envelope = UnicodeAttribute()
        ttl = NumberAttribute()

    return OutboxItem


def shard_of(event_id: str) -> int:
    return zlib.crc32(event_id.encode()) % SHARDS


def outbox_items(model: Any, events: Iterable[Envelope]) -> list[Any]:
    """Items to save in the producer's transaction, one per event."""
    expires = int((datetime.now(UTC) + RETENTION).timestamp())
    return [model(f"OUTBOX#{shard_of(e.id)}", f"{e.occurred_at}#{e.id}",
                  envelope=e.model_dump_json(), ttl=expires) for e in events]


class DynamoOutbox:
    def __init__(self, table: str, host: str | None, region: str,
                 publisher: EventPublisher) -> None:
        self.model = outbox_model(table, host, region)
        self.publisher = publisher

    def items(self, events: Sequence[Envelope]) -> list[Any]:
        return outbox_items(self.model, events)

    def flush(self, events: Sequence[Envelope]) -> None:
        """Publishes events committed with a write, then clears their items. Raises when
        publishing fails; the items stay for the relay."""
        if not events:
            return
        self.publisher.publish(list(events))
        self._delete(self.items(events))

    def relay(self, limit: int = 100) -> int:
        """Publishes pending events of every shard, oldest first; returns how many."""
        sent = 0
        for shard in range(SHARDS):
            pending = list(self.model.query(f"OUTBOX#{shard}", limit=limit,
                                            consistent_read=True))
            if not pending:
                continue
            self.publisher.publish([Envelope.model_validate_json(i.envelope)
                                    for i in pending])
            self._delete(pending)
            sent += len(pending)
        return sent

    def _delete(self, items: list[Any]) -> None:
        with self.model.batch_write() as batch:
            for item in items:
                batch.delete(item)
