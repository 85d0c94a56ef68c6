"""DynamoDB in moto made fast and atomic enough for load tests: queries on a key without a
scan of the table, one write at a time, transactions that copy the items they touch rather
than whole tables, condition and update expressions parsed once, JSON answers without the
model-driven serializer. Same answers as moto's own path (tests/integration/infra)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

_local = threading.local()


def install_fast_query() -> None:
    """moto answers a Query by sorting and scanning every item of the table, so a Query on a
    table of 100K items took 1.2 s. Items are already grouped by hash key in `Table.items`:
    a Query on the table's own key (not an index) is handed only that key's items
    (thread-local, so concurrent requests and Scans see the whole table). Same results."""
    from moto.dynamodb.models.table import Table

    all_items = Table.all_items
    query = Table.query

    def scoped_all_items(self: Any) -> Any:
        scope = getattr(_local, "scope", None)
        if scope is not None and scope[0] is self:
            return scope[1]
        return all_items(self)

    def fast_query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        if index_name is not None or hash_key is None:
            return query(self, hash_key, *args, **kwargs)
        bucket = self.items.get(hash_key)  # .get: do not grow the defaultdict
        if bucket is None:
            subset: list[Any] = []
        elif self.range_key_attr:
            subset = sorted(bucket.values(), key=lambda item: item.range_key)
        else:
            subset = [bucket]
        _local.scope = (self, subset)
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            _local.scope = None

    Table.all_items = scoped_all_items  # type: ignore[method-assign]
    Table.query = fast_query  # type: ignore[method-assign]


def install_atomic_writes() -> None:
    """DynamoDB applies each write (and each transaction) atomically: a condition is checked
    and the write made with nothing in between. moto checks and writes in plain Python on
    many server threads, so two conditional updates of one item could both pass the same
    check and one update was lost (seen in the progress store's race test). Writes run one
    at a time here; moto holds the GIL for them anyway, so little parallelism is lost."""
    import functools

    import moto.dynamodb.models as models

    lock = threading.RLock()  # re-entrant, in case one write goes through another

    def serialised(write: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(write)
        def run(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return write(*args, **kwargs)
        return run

    backend = models.DynamoDBBackend
    # (BatchWriteItem writes through put_item and delete_item, item by item, as DynamoDB does.)
    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        setattr(backend, name, serialised(getattr(backend, name)))


def install_light_transactions() -> None:
    """moto backs up every table a TransactWriteItems touches with a deep copy, so each
    transaction cost O(items in the table) (seconds at 100K items, stalling the whole server).
    Here the backup is of the touched items only, restored if the transaction fails, and the
    stream records of a failed transaction are taken back (moto kept them)."""
    import copy as real_copy

    import moto.dynamodb.models as models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    class CopyProxy:
        def __getattr__(self, name: str) -> Any:
            return getattr(real_copy, name)

        def deepcopy(self, obj: Any, memo: Any = None) -> Any:
            if getattr(_local, "light_tx", False) and isinstance(obj, Table):
                return obj  # replaced by the per-item snapshots below
            return real_copy.deepcopy(obj, memo)

    models.copy = CopyProxy()  # type: ignore[assignment]
    original = models.DynamoDBBackend.transact_write_items

    def snapshot(backend: Any, items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        saved = []
        for entry in items:
            _op_type, op = next(iter(entry.items()))
            table = backend.tables.get(op.get("TableName"))
            source = op.get("Key") or op.get("Item") or {}
            if table is None or table.hash_key_attr not in source:
                continue
            hash_key = DynamoType(source[table.hash_key_attr])
            range_key = (DynamoType(source[table.range_key_attr])
                         if table.range_key_attr and table.range_key_attr in source else None)
            try:
                current = table.get_item(hash_key, range_key)
            except Exception:
                continue
            saved.append((table, hash_key, range_key, real_copy.deepcopy(current)))
        return saved

    def stream_ends(backend: Any, items: list[dict[str, Any]]) -> list[tuple[Any, int]]:
        """Where each touched table's stream ends now (its next sequence number)."""
        tables = {backend.tables.get(next(iter(e.values())).get("TableName")) for e in items}
        return [(t.stream_shard, t.stream_shard.starting_sequence_number
                 + len(t.stream_shard.items))
                for t in tables if t is not None and t.stream_shard is not None]

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        saved = snapshot(self, transact_items)
        streams = stream_ends(self, transact_items)
        _local.light_tx = True
        try:
            return original(self, transact_items)
        except Exception:
            for table, hash_key, range_key, item in reversed(saved):
                if item is None:
                    table.delete_item(hash_key, range_key)
                elif range_key is not None:
                    table.items[hash_key][range_key] = item
                else:
                    table.items[hash_key] = item
            # moto wrote the items that came before the failing one, and their stream
            # records, then the restore above wrote more: a cancelled transaction leaves
            # none in DynamoDB. (Writes run one at a time: nothing else wrote in between.)
            for shard, end in streams:
                del shard.items[max(0, end - shard.starting_sequence_number):]
            raise
        finally:
            _local.light_tx = False

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


EXPRESSION_CACHE_SIZE = 4096


def install_expression_cache() -> None:
    """moto lexes and parses condition and update expressions with hand-written parsers
    wherever it meets them: a condition up to three times per transaction item (the
    handler's validation, the transaction's check, the write's own check), an update
    expression twice (~150 us per condition). An SDK sends the same few expressions over and
    over (`attribute_not_exists (#0) OR #1 = :0` with :0 false), so parsed ones are
    remembered in bounded maps; an expression that fails to parse is not.

    A condition's tree depends on the expression, its names and its values and is only
    read afterwards; the names and values a parse found (the handler checks for unused ones)
    come back with it. An update expression's tree depends on the expression alone, and
    moto's validator works on a deep copy of it."""
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.parsing.expressions import (  # type: ignore[attr-defined]
        UpdateExpressionParser,
    )

    parse_condition = ConditionExpressionParser.parse
    parse_update = UpdateExpressionParser.make
    conditions: dict[tuple[str, str, str], tuple[Any, list[str], list[str]]] = {}
    updates: dict[str, Any] = {}
    lock = threading.Lock()

    def remember(cache: dict[Any, Any], key: Any, value: Any) -> None:
        with lock:
            if len(cache) >= EXPRESSION_CACHE_SIZE:
                cache.pop(next(iter(cache)))  # the oldest entry
            cache[key] = value

    def condition(self: Any) -> Any:
        if not self.condition_expression:
            return parse_condition(self)
        try:
            key = (self.condition_expression,
                   json.dumps(self.expression_attribute_names, sort_keys=True),
                   json.dumps(self.expression_attribute_values, sort_keys=True))
        except (TypeError, ValueError):  # not plain JSON: parse as moto does
            return parse_condition(self)
        known = conditions.get(key)
        if known is None:
            names_before = len(self.expr_attr_names_found)
            values_before = len(self.expr_attr_values_found)
            tree = parse_condition(self)
            remember(conditions, key, (tree, self.expr_attr_names_found[names_before:],
                                       self.expr_attr_values_found[values_before:]))
            return tree
        self.expr_attr_names_found.extend(known[1])
        self.expr_attr_values_found.extend(known[2])
        return known[0]

    def update(expression: str) -> Any:
        known = updates.get(expression)
        if known is None:
            known = parse_update(expression)
            remember(updates, expression, known)
        return known

    ConditionExpressionParser.parse = condition  # type: ignore[method-assign]
    UpdateExpressionParser.make = update


def plain_json(value: Any) -> bool:
    """Whether json.dumps writes `value` as moto's model-driven serializer would: only
    strings, booleans, numbers, lists and objects (None, bytes, datetimes and other objects
    are what the serializer treats specially)."""
    kind = type(value)
    if kind is str or kind is bool or kind is int or kind is float:
        return True
    if kind is dict:
        return all(type(k) is str and plain_json(v) for k, v in value.items())
    if kind is list:
        return all(plain_json(v) for v in value)
    return False


def install_direct_dynamo_json() -> None:
    """DynamoDB answers are already in wire form once moto has turned its item objects into
    dicts ({"S": "..."}, {"N": "1"}, ...); moto still walks each answer with botocore's
    output shapes to serialize it (~12% of the server's CPU under the gate: py-spy,
    docs/benchmarks/journal.md). A plain answer is written with json.dumps; anything else (a binary
    attribute's bytes, a timestamp, a None to leave out) goes through moto's serializer."""
    from moto.dynamodb.responses import DynamoResult

    serialize = DynamoResult.execute_result
    headers = {"Content-Type": "application/x-amz-json-1.0"}

    def execute_result(self: Any, context: Any) -> Any:
        result = self.result
        if type(result) is dict and plain_json(result):
            return 200, dict(headers), json.dumps(result)
        return serialize(self, context)

    DynamoResult.execute_result = execute_result  # type: ignore[method-assign]

    # DynamoDB Streams' GetRecords went through the serializer record by record (~0.4 ms
    # each: 9 ms per poll under the gate, `edu local calls`). Its only non-plain value is
    # each record's creation time, which the JSON protocol writes as epoch seconds.
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    get_records = DynamoDBStreamsHandler.get_records

    def get_records_direct(self: Any) -> Any:
        answer = get_records(self)
        result = answer.result if hasattr(answer, "result") else None
        if type(result) is not dict:
            return answer
        records = []
        for record in result.get("Records", []):
            change = dict(record["dynamodb"])
            created = change.get("ApproximateCreationDateTime")
            if isinstance(created, datetime):
                change["ApproximateCreationDateTime"] = created.timestamp()
            records.append({**record, "dynamodb": change})
        direct = {**result, "Records": records}
        return json.dumps(direct) if plain_json(direct) else answer

    DynamoDBStreamsHandler.get_records = get_records_direct  # type: ignore[method-assign]
