"""A transactional outbox for DynamoDB producers (identity, enrollment, video): an event is
written as an item of the outbox table in the same TransactWriteItems as the change it
reports, so a committed change always has its event. The table's stream relays it: the
OutboxStream function gets the new items in batches (`relay_records`), publishes them and
deletes them. Nothing more happens on the request path (publishing and deleting there
would cost each write two more AWS calls). Whatever the stream relay
gives up on stays in the table, and the scheduled sweep (`sweep`) publishes what is older
than STREAM_GRACE.

    OUTBOX#<shard> / <occurred_at>#<event id>    the envelope (TTL 14 days, a safety net)

Events spread over a few shard partitions so one hot partition does not take every write;
the sweep reads each shard oldest first. Delivery is at least once: consumers dedupe on id.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from pydantic import ValidationError
from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from edu.adapters.dynamo_base import keyed_base
from edu.adapters.eventbridge import PUT_EVENTS_LIMIT
from edu.events import Envelope, EventPublisher, event_time

SHARDS = 4
RETENTION = timedelta(days=14)
# How long an item may wait for the stream relay before the sweep publishes it too: well
# past the relay's retries (5, backing off) so the sweep does not race a healthy stream.
STREAM_GRACE = timedelta(minutes=5)


@cache
def outbox_model(table_: str, host_: str | None, region_: str) -> Any:
    base = keyed_base(table_, host_, region_)

    class OutboxItem(base):  # type: ignore[valid-type,misc]
        envelope = UnicodeAttribute()
        ttl = NumberAttribute()

    return OutboxItem


def shard_of(event_id: str) -> int:
    return zlib.crc32(event_id.encode()) % SHARDS


def outbox_key(event: Envelope) -> tuple[str, str]:
    return f"OUTBOX#{shard_of(event.id)}", f"{event.occurred_at}#{event.id}"


def outbox_items(model: Any, events: Iterable[Envelope]) -> list[Any]:
    """Items to save in the producer's transaction, one per event."""
    expires = int((datetime.now(UTC) + RETENTION).timestamp())
    return [model(*outbox_key(e), envelope=e.model_dump_json(), ttl=expires) for e in events]


@dataclass(frozen=True)
class StreamRecord:
    """What the relay needs of one stream record: its position and the item it added."""
    sequence_number: str
    envelope: Envelope | None  # None: not an outbox item's insert, or unreadable


def readable(text: str | None) -> Envelope | None:
    """An outbox item's envelope, or None when it does not parse (left alone, logged)."""
    try:
        return Envelope.model_validate_json(text or "")
    except ValidationError:
        return None


def stream_record(record: dict[str, Any]) -> StreamRecord:
    change = record.get("dynamodb") or {}
    sequence = str(change.get("SequenceNumber", ""))
    if record.get("eventName") != "INSERT":
        return StreamRecord(sequence, None)
    return StreamRecord(sequence, readable(
        ((change.get("NewImage") or {}).get("envelope") or {}).get("S")))


class DynamoOutbox:
    def __init__(self, table: str, host: str | None, region: str,
                 publisher: EventPublisher,
                 warn: Callable[[str, dict[str, Any]], None] | None = None) -> None:
        self.model = outbox_model(table, host, region)
        self.publisher = publisher
        self.warn = warn or (lambda _msg, _extra: None)

    def relay_records(self, records: Sequence[dict[str, Any]]) -> str | None:
        """Publishes the outbox items a batch of stream records added, in stream order, and
        deletes them. Returns None when all went out, else the sequence number of the first
        record not published (the stream mapping retries from there; later records wait)."""
        parsed = [stream_record(r) for r in records]
        for bad in (p for p in parsed if p.envelope is None):
            self.warn("outbox stream record skipped: not a readable outbox insert",
                      {"sequence_number": bad.sequence_number})
        pending = [p for p in parsed if p.envelope is not None]
        published: list[Envelope] = []
        for start in range(0, len(pending), PUT_EVENTS_LIMIT):  # a failure names its chunk
            chunk = pending[start:start + PUT_EVENTS_LIMIT]
            envelopes = [p.envelope for p in chunk if p.envelope is not None]
            try:
                self.publisher.publish(envelopes)
            except Exception as exc:
                self.warn("outbox stream relay: publishing failed; the batch is retried from "
                          "the first unpublished record", {"error": str(exc)})
                self._delete_published(published)
                return chunk[0].sequence_number
            published += envelopes
        self._delete_published(published)
        return None

    def sweep(self, limit: int = 100, older_than: timedelta = STREAM_GRACE) -> int:
        """Publishes items the stream relay has left for longer than `older_than`, oldest
        first per shard; returns how many."""
        cutoff = event_time(datetime.now(UTC) - older_than)
        sent = 0
        for shard in range(SHARDS):
            stale = list(self.model.query(f"OUTBOX#{shard}", self.model.sk < cutoff,
                                          limit=limit, consistent_read=True))
            parsed = []
            for item in stale:
                envelope = readable(item.envelope)
                if envelope is None:
                    self.warn("outbox item left alone: its envelope is unreadable",
                              {"pk": item.pk, "sk": item.sk})
                else:
                    parsed.append((item, envelope))
            if not parsed:
                continue
            self.publisher.publish([envelope for _item, envelope in parsed])
            self._delete([item for item, _envelope in parsed])
            sent += len(parsed)
        return sent

    def _delete_published(self, events: list[Envelope]) -> None:
        """Deleting is tidying: an item left behind is published again by the sweep later
        (consumers dedupe), so a failure here is logged, not retried."""
        if not events:
            return
        try:
            self._delete([self.model(*outbox_key(e)) for e in events])
        except Exception as exc:
            self.warn("outbox items published but not deleted; the sweep will publish them "
                      "again", {"error": str(exc), "count": len(events)})

    def _delete(self, items: list[Any]) -> None:
        with self.model.batch_write() as batch:
            for item in items:
                batch.delete(item)
