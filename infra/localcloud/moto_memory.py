"""Bounds on what moto keeps for as long as the local AWS endpoint runs: without them its
memory grew with every call a load test made (item versions, SQS messages and receipts,
stream records and shard iterators)."""

from __future__ import annotations

import bisect
import os
from typing import Any

from localcloud.bounded import NewestKept, NewestKeptSet

# Per stream shard (DynamoDB keeps 24 hours of records); EDU_MOTO_STREAM_RECORDS for tests.
STREAM_RECORDS_KEPT = int(os.environ.get("EDU_MOTO_STREAM_RECORDS", "20000"))
SHARD_ITERATORS_KEPT = 1_000  # AWS's iterators expire after 15 minutes
DELETED_RECEIPTS_KEPT = 10_000  # per queue: deleting a message again still succeeds


# moto services whose models are read back through BaseModel's instance list: SES's sent
# mail (the mail viewer reads /moto-api/data.json), S3's keys (closed through it at reset).
TRACKED_SERVICES = {"ses", "s3"}


def install_untracked_models() -> None:
    """moto's BaseModel appends every instance it makes to a list on its class, for the
    /moto-api/data.json dashboard, and never removes it: every item version written, every
    SQS message and every shard iterator stayed in memory for as long as the server ran
    (~8 KB per send/receive/delete + PutItem + stream poll). Only the services something
    reads back keep that list."""
    from moto.core.common_models import BaseModel

    tracked: dict[type, bool] = {}

    def new(cls: Any, *_args: Any, **_kwargs: Any) -> Any:
        instance = object.__new__(cls)
        keep = tracked.get(cls)
        if keep is None:
            keep = tracked[cls] = cls.__module__.split(".")[1] in TRACKED_SERVICES
        if keep:
            cls.instances_tracked.append(instance)
        return instance

    BaseModel.__new__ = staticmethod(new)  # type: ignore[method-assign]


def stream_sequence(record: Any) -> int:
    return int(record.record["dynamodb"]["SequenceNumber"])


def install_bounded_streams() -> None:
    """moto keeps every record of a DynamoDB stream and registers a new shard iterator
    (~1 KB) on every GetRecords, so a table's stream, read four times a second by its
    mapping, grew for as long as the server ran. Keep the newest STREAM_RECORDS_KEPT records
    of a shard (sequence numbers do not change: the shard's start moves up; an iterator
    behind the start reads from the oldest record kept, where DynamoDB would say the data
    was trimmed) and the newest SHARD_ITERATORS_KEPT iterators."""
    from moto.dynamodb.models.table import StreamShard
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend


    add, init = StreamShard.add, DynamoDBStreamsBackend.__init__

    def add_bounded(self: Any, old: Any, new: Any) -> None:
        add(self, old, new)
        excess = len(self.items) - STREAM_RECORDS_KEPT
        if excess >= STREAM_RECORDS_KEPT // 10:  # trim in steps, not one record per write
            del self.items[:excess]
            self.starting_sequence_number += excess

    def get_kept(self: Any, start: int, quantity: int) -> list[dict[str, Any]]:
        # By sequence number, not position: a stream restored after a hard kill may lack
        # the records of writes that were never acknowledged.
        first = bisect.bisect_left(self.items, start, key=stream_sequence)
        return [record.to_json() for record in self.items[first:first + quantity]]

    def init_bounded(self: Any, region_name: str, account_id: str) -> None:
        init(self, region_name, account_id)
        self.shard_iterators = NewestKept[str, Any](SHARD_ITERATORS_KEPT)

    StreamShard.add = add_bounded  # type: ignore[method-assign]
    StreamShard.get = get_kept  # type: ignore[method-assign]
    DynamoDBStreamsBackend.__init__ = init_bounded  # type: ignore[method-assign]


def install_bounded_deleted_receipts() -> None:
    """moto remembers the receipt handles of every message ever deleted from a queue (so
    that deleting one again succeeds, as on SQS): ~0.3 KB per message for as long as the
    server ran. A queue remembers its newest DELETED_RECEIPTS_KEPT."""
    from moto.sqs.models import Queue

    init = Queue.__init__

    def init_bounded(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.deleted_messages = NewestKeptSet[str](DELETED_RECEIPTS_KEPT)

    Queue.__init__ = init_bounded  # type: ignore[method-assign]
