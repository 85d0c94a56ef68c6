"""DynamoDB streams that outlive the local endpoint.

A table's stream keeps its label (so its ARN) across restarts; its records are committed
with the items of the write that made them (`take` hands them to `Persistence`); and a
shard iterator names the sequence number it reads from, so an iterator handed out before a
restart still reads on from there after it: a mapping that was polling when the endpoint
was killed goes on where it was, neither skipping nor repeating records.
"""

from __future__ import annotations

import base64
import os
import threading
from datetime import datetime
from typing import Any

import orjson

from localcloud.moto_items import dynamodb_backend
from localcloud.moto_memory import stream_sequence
from localcloud.moto_state import StateStore, StreamRow

_ITERATOR_MARK = b"edu-seq:"


class KeptRecord:
    """A stream record read back from the store (moto's `StreamRecord` minus its maker)."""

    def __init__(self, record: dict[str, Any]) -> None:
        change = record.get("dynamodb") or {}
        created = change.get("ApproximateCreationDateTime")
        if isinstance(created, str):
            change["ApproximateCreationDateTime"] = datetime.fromisoformat(created)
        self.record = record

    def to_json(self) -> dict[str, Any]:
        return self.record


class StreamKeeper:
    """Hooks moto's stream shards and iterators; keeps what they hold in the store."""

    def __init__(self, store: StateStore) -> None:
        self.store = store
        self._local = threading.local()
        self._trimmed: dict[tuple[str, str], int] = {}

    def install(self) -> None:
        from moto.dynamodb.models.table import StreamShard
        from moto.dynamodbstreams.models import DynamoDBStreamsBackend, ShardIterator

        add, init = StreamShard.add, ShardIterator.__init__
        get_records = DynamoDBStreamsBackend.get_records
        keeper = self

        def add_kept(shard: Any, old: Any, new: Any) -> None:
            add(shard, old, new)  # writes run one at a time: the last record is this one's
            if shard.items:
                keeper._pending().append((shard, shard.items[-1]))

        def init_named(iterator: Any, backend: Any, shard: Any, kind: str,
                       sequence_number: int | None = None) -> None:
            init(iterator, backend, shard, kind, sequence_number)
            iterator.id = base64.b64encode(_ITERATOR_MARK + str(iterator.sequence_number)
                                           .encode() + b":" + os.urandom(24)).decode()

        def get_records_revived(backend: Any, iterator_arn: str, limit: int) -> Any:
            if iterator_arn not in backend.shard_iterators:
                revived = _revive(backend, iterator_arn)
                if revived is not None:
                    backend.shard_iterators[iterator_arn] = revived
            return get_records(backend, iterator_arn, limit)

        StreamShard.add = add_kept  # type: ignore[method-assign,assignment]
        ShardIterator.__init__ = init_named  # type: ignore[method-assign,assignment]
        DynamoDBStreamsBackend.get_records = get_records_revived  # type: ignore[method-assign,assignment]

    def _pending(self) -> list[tuple[Any, Any]]:
        if not hasattr(self._local, "records"):
            self._local.records = []
        pending: list[tuple[Any, Any]] = self._local.records
        return pending

    def take(self) -> list[StreamRow]:
        """The records this thread's call added to streams (and forgets them)."""
        pending, self._local.records = self._pending(), []
        rows = []
        for shard, record in pending:
            table = shard.table
            rows.append((table.region_name, table.name, str(table.latest_stream_label),
                         stream_sequence(record), orjson.dumps(record.to_json())))
        for shard in {id(shard): shard for shard, _ in pending}.values():
            self._trim(shard)
        return rows

    def _trim(self, shard: Any) -> None:
        """Forgets stored records the shard no longer holds (it keeps the newest)."""
        table = shard.table
        first = stream_sequence(shard.items[0]) if shard.items else shard.starting_sequence_number
        key = (table.region_name, table.name)
        if self._trimmed.get(key, 0) < first:
            if key in self._trimmed:  # at start: nothing to forget yet
                self.store.trim_stream(*key, str(table.latest_stream_label), first)
            self._trimmed[key] = first

    def note_stream(self, region: str, table_name: str) -> None:
        """After a table's creation or update: keeps the label of its stream."""
        table = dynamodb_backend(region).tables.get(table_name)
        if table is not None and table.latest_stream_label:
            self.store.put_stream(region, table_name, str(table.latest_stream_label))

    def restore(self) -> int:
        """Gives each replayed table its stream's label and records back; returns how many
        records."""
        restored = 0
        for region, table_name, label in self.store.streams():
            table = dynamodb_backend(region).tables.get(table_name)
            if table is None or table.stream_shard is None:
                continue
            table.latest_stream_label = label
            shard = table.stream_shard
            kept = self.store.stream_records(region, table_name, label)
            shard.items = [KeptRecord(orjson.loads(doc)) for _, doc in kept]
            if kept:  # the next record follows the last kept (a hard kill may leave gaps)
                shard.starting_sequence_number = kept[-1][0] + 1 - len(kept)
            restored += len(kept)
        return restored


def _revive(backend: Any, iterator_arn: str) -> Any:
    """The iterator an ARN from before a restart stood for, if its stream is still the
    table's stream; None otherwise (moto then answers as for any unknown iterator)."""
    stream_arn, _, ident = iterator_arn.partition("|1|")
    label = stream_arn.rpartition("/stream/")[2]
    try:
        raw = base64.b64decode(ident)
        table = backend._get_table_from_arn(stream_arn)
    except Exception:
        return None
    if not raw.startswith(_ITERATOR_MARK) or table.latest_stream_label != label:
        return None
    if table.stream_shard is None:
        return None
    from moto.dynamodbstreams.models import ShardIterator

    sequence = int(raw[len(_ITERATOR_MARK):].split(b":", 1)[0])
    return ShardIterator(backend, table.stream_shard, "AT_SEQUENCE_NUMBER", sequence)
