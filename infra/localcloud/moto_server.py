"""moto's server, started by the local cloud, with fixes for DynamoDB, SQS and EventBridge
speed and S3 POST policies.

S3 POST policies: moto stores a browser-form upload whatever its policy says; real S3 refuses
an expired policy, a field that breaks a condition (a content type, a key prefix), and a file
outside `content-length-range`. `check_post_policy` applies those rules before moto stores
the object, so an upload form tested locally behaves as it will on AWS.

DynamoDB Query:
moto answers a Query by sorting and scanning every item of the table (`all_items()`), so a
Query against a table of 100K items took 1.2 s locally (2.4 ms for a GetItem). Items are
already grouped by hash key in moto's `Table.items`; for Queries on the table's own key (not
an index) we hand moto only that key's items. Thread-local, so concurrent requests (moto's
server is threaded) and other operations (Scan) see the full table. Same results, O(items
of that key) instead of O(n log n).

SQS and EventBridge: see `install_fast_sqs`, `install_cached_jsonpath` and
`install_light_event_delivery`; a backlog of a few hundred messages used to make every queue
call O(messages) several times over, and PutEvents re-parsed each event per rule.

DynamoDB writes: see `install_atomic_writes`; concurrent conditional writes could lose
updates.

Per-call overhead: `install_direct_dynamo_json` writes plain DynamoDB answers with
json.dumps instead of moto's model-driven serializer, and `DirectDispatch` hands
DynamoDB, SQS and EventBridge JSON calls and SES's form calls to moto's response classes
without Flask; `install_expression_cache` parses each condition and update expression once
(all tested to answer exactly as moto's own path does; `EDU_MOTO_DIRECT_JSON=0`,
`EDU_MOTO_DIRECT_DISPATCH=0`, `EDU_MOTO_EXPRESSION_CACHE=0` turn them off).

Call ledger: `CallLedger` counts every AWS call by service and operation with the server CPU
it took; `GET /_edu/calls` answers with the table (`edu local calls` prints it), so a load
run shows which calls cost the local cloud most.

Memory: `moto_memory` bounds what moto kept for as long as it ran (every model instance it
made, stream records and shard iterators, deleted messages' receipts).

Garbage collection: see `GcFreezer`; a full collection over a seeded moto stopped the whole
server for ~0.9 s.

    python -m localcloud.moto_server -H 127.0.0.1 -p 4566
"""

from __future__ import annotations

import base64
import binascii
import gc
import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

_local = threading.local()
GC_FREEZE_EVERY_S = 5.0


def install_fast_query() -> None:
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


def install_fast_sqs() -> None:
    """moto recomputes every queue attribute (three passes over all messages, reading the
    clock per message) on each `queue.attributes` access: GetQueueAttributes touched it 2x per
    name asked for, SendMessage twice, and ReceiveMessage once per message returned (its
    retention check goes through GetQueueAttributes). With a few hundred messages waiting
    that was most of the server's CPU (py-spy, docs/benchmarks.md) and a backlog made every
    queue call slower, so consumers fell further behind. Here the counts take one pass with
    one clock read, GetQueueAttributes builds the attributes once, SendMessage (which reads
    only ContentBasedDeduplication) skips the counts, and the retention check reads the
    queue's retention period directly. ReceiveMessage answers with a snapshot of each message
    (so filtering its attributes for the answer leaves the stored message whole): moto took
    it with `deepcopy`, which copied every receipt handle the message ever had; a shallow copy
    is the same snapshot, since the filter replaces the attributes dict instead of editing
    it. Same answers."""
    import copy

    import moto.sqs.models as sqs_models
    from moto.sqs.models import Message, Queue, SQSBackend, unix_time, unix_time_millis

    attributes = Queue.attributes.fget  # type: ignore[attr-defined]
    get_queue_attributes = SQSBackend.get_queue_attributes
    send_message = SQSBackend.send_message

    def counts(queue: Any) -> tuple[int, int, int]:
        now = unix_time_millis()
        waiting = delayed = in_flight = 0
        for message in queue._messages:
            is_delayed = now < message.delayed_until
            is_visible = now > message.visible_at
            delayed += is_delayed
            in_flight += not is_visible
            waiting += is_visible and not is_delayed
        return waiting, delayed, in_flight

    def counted(index: int) -> property:
        def get(self: Any) -> int:
            known = getattr(_local, "counts", None)
            if known is not None and known[0] is self:
                return int(known[1][index])
            return counts(self)[index]
        return property(get)

    def one_pass_attributes(self: Any) -> dict[str, Any]:
        frozen = getattr(_local, "frozen", None)
        if frozen is not None and id(self) in frozen:
            return frozen[id(self)]
        _local.counts = (self, (0, 0, 0) if getattr(_local, "sending", False) else counts(self))
        try:
            result: dict[str, Any] = attributes(self)
        finally:
            _local.counts = None
        if frozen is not None:
            frozen[id(self)] = result
        return result

    def get_attributes_once(self: Any, queue_name: str, attribute_names: list[str]
                            ) -> dict[str, Any]:
        _local.frozen = {}
        try:
            return get_queue_attributes(self, queue_name, attribute_names)
        finally:
            _local.frozen = None

    def send_without_counts(self: Any, *args: Any, **kwargs: Any) -> Any:
        # SendMessage reads the attributes twice for ContentBasedDeduplication alone: counting
        # the waiting messages there made each send cost a pass over the whole backlog.
        _local.sending = True
        try:
            return send_message(self, *args, **kwargs)
        finally:
            _local.sending = False

    def retained(self: Any, queue_name: str, message: Any) -> bool:
        period = int(self.get_queue(queue_name).message_retention_period)
        return bool(period + message.sent_timestamp / 1000 > unix_time())

    def snapshot(value: Any, memo: dict[int, Any] | None = None) -> Any:
        if type(value) is Message:
            return copy.copy(value)
        return copy.deepcopy(value, memo)

    sqs_models.deepcopy = snapshot  # type: ignore[assignment]
    if os.environ.get("EDU_MOTO_SQS_BACKLOG", "1") != "0":  # "0": compare in moto_bench.py
        Queue.messages = property(VisibleMessages)  # type: ignore[method-assign,assignment]
        Queue.delete_message = delete_in_one_pass  # type: ignore[method-assign]
        SQSBackend.delete_message_batch = delete_batch_in_one_pass  # type: ignore[method-assign]
    Queue.approximate_number_of_messages = counted(0)  # type: ignore[method-assign,assignment]
    Queue.approximate_number_of_messages_delayed = counted(1)  # type: ignore[method-assign,assignment]
    Queue.approximate_number_of_messages_not_visible = counted(2)  # type: ignore[method-assign,assignment]
    Queue.attributes = property(one_pass_attributes)  # type: ignore[method-assign,assignment]
    SQSBackend.get_queue_attributes = get_attributes_once  # type: ignore[method-assign]
    SQSBackend.is_message_valid_based_on_retention_period = retained  # type: ignore[method-assign]
    SQSBackend.send_message = send_without_counts  # type: ignore[method-assign]


class VisibleMessages:
    """`Queue.messages` as a lazy view: moto built the list of every visible message (two
    clock reads per message) for each ReceiveMessage, which then takes at most ten, so with a
    backlog of 4,700 messages a receive cost ~8 ms of server CPU (`edu local calls`). The
    view reads the clock once and stops where the receive stops. Same messages, same order."""

    def __init__(self, queue: Any) -> None:
        self.queue = queue

    def __iter__(self) -> Any:
        from moto.sqs.models import unix_time_millis

        now = unix_time_millis()
        return (m for m in self.queue._messages
                if now > m.visible_at and not now < m.delayed_until)

    def __bool__(self) -> bool:  # long polls wait on this
        return next(iter(self), None) is not None

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _delete_handles(queue: Any, handles: set[str]) -> set[str]:
    """Deletes the messages holding any of `handles` (current or earlier receipts, as moto
    accepts) in one pass over the queue; returns the handles that matched."""
    matched: set[str] = set()
    with queue._messages_lock:
        kept = []
        for message in queue._messages:
            if message.receipt_handle in handles or (
                    message._old_receipt_handles
                    and not handles.isdisjoint(message._old_receipt_handles)):
                matched.update(handles.intersection(message.all_receipt_handles))
                queue.pending_messages.discard(message)
                queue.deleted_messages.update(message.all_receipt_handles)
            else:
                kept.append(message)
        queue._messages = kept
    return matched


def delete_in_one_pass(self: Any, receipt_handle: str) -> None:
    """moto's DeleteMessage walked the queue twice per handle (ten handles a batch)."""
    from moto.sqs.exceptions import ReceiptHandleIsInvalid

    if receipt_handle in self.deleted_messages:
        return  # deleting again is fine, as on SQS
    if not _delete_handles(self, {receipt_handle}):
        raise ReceiptHandleIsInvalid()


def delete_batch_in_one_pass(self: Any, queue_name: str, receipts: list[dict[str, Any]]
                             ) -> tuple[list[str], list[dict[str, str]]]:
    queue = self.get_queue(queue_name)
    handles = {r["ReceiptHandle"] for r in receipts}
    already = {h for h in handles if h in queue.deleted_messages}  # deleting again is fine
    matched = _delete_handles(queue, handles - already) | already
    success = [r["Id"] for r in receipts if r["ReceiptHandle"] in matched]
    errors = [{"Id": r["Id"], "SenderFault": True, "Code": "ReceiptHandleIsInvalid",
               "Message": f'The input receipt handle "{r["ReceiptHandle"]}" is not a valid '
                          "receipt handle."}
              for r in receipts if r["ReceiptHandle"] not in matched]
    return success, errors


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


def install_cached_jsonpath() -> None:
    """EventBridge delivery in moto parses eight JSONPath expressions per target and event,
    building a new yacc parser each time (a quarter of the server's CPU under load). The
    parsed expressions are immutable, so each is parsed once."""
    import functools

    import jsonpath_ng.ext

    jsonpath_ng.ext.parse = functools.lru_cache(maxsize=512)(jsonpath_ng.ext.parse)


def install_light_event_delivery() -> None:
    """moto's PutEvents, per event and per rule on the bus, deep-copies a base message,
    parses the detail again, round-trips the event through JSON and flattens it to match the
    rule's pattern, and per matching SQS target renders its default input template (eight
    JSONPath lookups and string substitutions, then a JSON parse) to rebuild the same
    event: 6.8 ms of server CPU per PutEvents under the gate. Here each event is parsed and
    flattened once; a rule whose targets are all SQS queues without an InputTransformer gets
    the event's default shape directly. Other targets (transformers, logs, archives, buses,
    API destinations) and any call with an invalid entry go through moto's own path. Same
    messages, except where moto's template corrupts a detail that contains its placeholders
    (`<id>`, `<source>` ...), which AWS delivers as sent."""
    from moto.core.utils import unix_time
    from moto.events.models import EventPattern, EventsBackend
    from moto.moto_api._internal import mock_random
    from moto.utilities.arns import parse_arn

    put_events = EventsBackend.put_events

    def plain_sqs(rule: Any) -> bool:
        return bool(rule.targets) and all(
            not target.get("InputTransformer") and parse_arn(target["Arn"]).service == "sqs"
            for target in rule.targets)

    def light_put_events(self: Any, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        parsed = []
        for event in events if len(events) <= 10 else ():
            try:
                detail = json.loads(event.get("Detail") or "")
            except ValueError:
                break
            if not (event.get("Source") and event.get("DetailType")
                    and isinstance(detail, dict)):
                break
            parsed.append(detail)
        if len(parsed) != len(events) or not events:
            return put_events(self, events)  # moto's own answers for what it refuses
        entries = []
        for event, detail in zip(events, parsed, strict=True):
            event_id = str(mock_random.uuid4())
            entries.append({"EventId": event_id})
            bus = self.describe_event_bus(
                self._normalize_event_bus_arn(event.get("EventBusName")))
            message = {"version": "0", "id": event_id, "detail-type": event["DetailType"],
                       "source": event["Source"], "account": self.account_id,
                       "time": event.get("Time", unix_time()), "region": self.region_name,
                       "resources": event.get("Resources", []), "detail": detail,
                       "ingestion-time": unix_time()}
            flat = EventPattern._flatten_dict(json.loads(json.dumps(message)))
            for rule in bus.rules.values():
                if not plain_sqs(rule):
                    rule.send_to_targets(json.loads(json.dumps(message)))
                    continue
                pattern = rule.event_pattern
                if pattern.get_pattern() and not pattern._does_event_match(
                        flat, pattern.get_pattern()):
                    continue
                for target in rule.targets:
                    rule._send_to_sqs_queue(
                        parse_arn(target["Arn"]).resource_id,
                        {"id": event_id, "time": message["time"], "version": "0",
                         "detail-type": message["detail-type"], "source": message["source"],
                         "region": message["region"], "resources": message["resources"],
                         "detail": detail},
                        (target.get("SqsParameters") or {}).get("MessageGroupId"))
        return entries

    EventsBackend.put_events = light_put_events  # type: ignore[method-assign]


def install_complete_queue_events() -> None:
    """moto's EventBridge left `account` out of the events it puts on SQS queues (what the
    local runtime hands to functions); AWS's events carry it, and Powertools' event model
    requires it."""
    from moto.events.models import Rule

    send = Rule._send_to_sqs_queue

    def send_complete(self: Any, resource_id: str, event: dict[str, Any],
                      group_id: str | None = None) -> None:
        if "detail-type" in event and "account" not in event:  # not a transformed input
            event = {**event, "account": self.account_id}
        send(self, resource_id, event, group_id)

    Rule._send_to_sqs_queue = send_complete  # type: ignore[method-assign]


def install_cached_method_names() -> None:
    """moto lists a response class's methods with `inspect.getmembers` on every request to
    check the action exists (5% of the server's CPU under load); a class's methods do not
    change while it serves."""
    import functools

    import moto.core.responses as responses

    responses.method_names_from_class = functools.lru_cache(maxsize=None)(
        responses.method_names_from_class)


def install_cheap_ids() -> None:
    """moto draws request ids, message ids and SQS receipt handles one `random.choice` per
    character (185 for a receipt handle) and converts an action's name to snake case on
    every call: together ~6% of the server's time under the gate (py-spy,
    docs/benchmarks.md). Same alphabets and lengths, drawn with one `choices` call; the
    names are remembered."""
    import functools
    import string
    import sys

    import moto.core.utils as core_utils
    import moto.sqs.models as sqs_models
    from moto.moto_api._internal import mock_random
    from moto.moto_api._internal.moto_random import MotoRandom

    def get_random_string(self: Any, length: int = 20, include_digits: bool = True,
                          lower_case: bool = False) -> str:
        pool = string.ascii_letters + (string.digits if include_digits else "")
        text = "".join(self.choices(pool, k=length))
        return text.lower() if lower_case else text

    def get_random_hex(self: Any, length: int = 8) -> str:
        return "".join(self.choices("0123456789abcdef", k=length))

    def generate_receipt_handle() -> str:
        return "".join(mock_random.choices(string.ascii_lowercase, k=185))

    MotoRandom.get_random_string = get_random_string  # type: ignore[method-assign]
    MotoRandom.get_random_hex = get_random_hex  # type: ignore[method-assign]
    sqs_models.generate_receipt_handle = generate_receipt_handle
    original = core_utils.camelcase_to_underscores
    cached = functools.lru_cache(maxsize=4096)(original)
    for module in list(sys.modules.values()):  # the modules that imported it by name
        if getattr(module, "__name__", "").startswith("moto") and \
                getattr(module, "camelcase_to_underscores", None) is original:
            module.camelcase_to_underscores = cached  # type: ignore[attr-defined]


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
    docs/benchmarks.md). A plain answer is written with json.dumps; anything else (a binary
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


# Form fields S3 does not require a policy condition for.
_UNCHECKED_FIELDS = {"policy", "signature", "awsaccesskeyid", "x-amz-signature", "file"}


class PolicyViolation(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def xml(self) -> str:
        return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>"
                f"{self.code}</Code><Message>{escape(self.message)}</Message></Error>")


def _denied(message: str) -> PolicyViolation:
    return PolicyViolation(403, "AccessDenied", f"Invalid according to Policy: {message}")


def check_post_policy(form: Mapping[str, str], bucket: str, size: int,
                      now: datetime | None = None) -> None:
    """Raises PolicyViolation when a POST upload breaks its policy (S3's rules: expiration,
    exact and starts-with conditions on every field, content-length-range)."""
    try:
        policy = json.loads(base64.b64decode(form["policy"]))
        expires = datetime.fromisoformat(str(policy["expiration"]).replace("Z", "+00:00"))
        conditions = list(policy.get("conditions") or [])
    except (KeyError, ValueError, TypeError, binascii.Error) as exc:
        raise PolicyViolation(400, "InvalidPolicyDocument",
                              f"Invalid Policy: {exc}") from None
    if (now or datetime.now(UTC)) > expires:
        raise _denied("Policy expired.")
    fields = {k.lower(): v for k, v in form.items()}
    fields["bucket"] = bucket
    covered = {"bucket"}
    for condition in conditions:
        if isinstance(condition, dict):
            ops = [("eq", name, value) for name, value in condition.items()]
        elif isinstance(condition, list) and condition and condition[0] == "content-length-range":
            low, high = int(condition[1]), int(condition[2])
            if size > high:
                raise PolicyViolation(400, "EntityTooLarge",
                                      "Your proposed upload exceeds the maximum allowed size")
            if size < low:
                raise PolicyViolation(400, "EntityTooSmall",
                                      "Your proposed upload is smaller than the minimum "
                                      "allowed size")
            continue
        elif isinstance(condition, list) and len(condition) == 3:
            ops = [(str(condition[0]).lower(), str(condition[1]).lstrip("$"), condition[2])]
        else:
            raise PolicyViolation(400, "InvalidPolicyDocument",
                                  f"Invalid Policy: bad condition {condition!r}")
        for op, name, expected in ops:
            name = name.lower()
            covered.add(name)
            actual = fields.get(name, "")
            if op == "eq" and actual != str(expected):
                raise _denied(f'Policy Condition failed: ["eq", "${name}", "{expected}"]')
            if op == "starts-with" and not actual.startswith(str(expected)):
                raise _denied(
                    f'Policy Condition failed: ["starts-with", "${name}", "{expected}"]')
    extra = sorted(name for name in fields
                   if name not in covered and name not in _UNCHECKED_FIELDS
                   and not name.startswith("x-ignore-"))
    if extra:
        raise _denied(f"Extra input fields: {', '.join(extra)}")


def install_post_policy() -> None:
    from moto.s3.responses import S3Response

    original = S3Response._bucket_response_post

    def checked_post(self: Any, request: Any, bucket_name: str) -> Any:
        form = {k: v for k, v in (self.form_data or {}).items() if isinstance(v, str)}
        if "policy" in form and "key" in form:
            body = self.body if isinstance(self.body, bytes | str) else b""
            size = len(body.encode() if isinstance(body, str) else body)
            try:
                check_post_policy(form, bucket_name, size)
            except PolicyViolation as violation:
                return violation.status, {"Content-Type": "application/xml"}, violation.xml()
        return original(self, request, bucket_name)

    S3Response._bucket_response_post = checked_post  # type: ignore[method-assign]


KEEP_ALIVE_CONNECTIONS = 2048


class GcFreezer:
    """Keeps CPython's full garbage collections short in a server that holds a large heap.

    moto keeps every item, message and object in memory: with `edu seed`'s 50K users a full
    (generation 2) collection walks millions of objects, and it holds the GIL throughout:
    measured 0.5-0.9 s per collection, every server thread stopped, a p99 spike for every
    AWS call in flight. Every few seconds, what survived a young collection is frozen
    (`gc.freeze`: moved out of the collector's sight), so full collections only see what
    arrived since. Garbage is still freed by reference counting; reference cycles that were
    frozen are reclaimed by one full collection after some work, once the server is idle
    (nobody waits for it then; the runtime's queue long-polls cost almost no CPU, so idle is
    judged by the CPU the process used, not by its request count)."""

    IDLE_CPU_SHARE = 0.05  # below this share of a core over a period: idle
    WORK_BEFORE_FULL_S = 5.0  # CPU seconds of work after which an idle full collection runs

    def __init__(self, every_s: float = GC_FREEZE_EVERY_S,
                 cpu_clock: Callable[[], float] = time.process_time) -> None:
        self.every_s = every_s
        self.cpu_clock = cpu_clock
        self._cpu = self._cpu_at_full = cpu_clock()

    def tick(self) -> bool:
        """One period's step; True when it ran a full collection."""
        now = self.cpu_clock()
        idle = now - self._cpu < self.IDLE_CPU_SHARE * self.every_s
        full = idle and now - self._cpu_at_full >= self.WORK_BEFORE_FULL_S
        if full:
            gc.unfreeze()
            gc.collect()
        else:
            gc.collect(1)
        gc.freeze()
        self._cpu = self.cpu_clock()
        if full:
            self._cpu_at_full = self._cpu
        return full

    def run(self) -> None:
        def loop() -> None:
            while True:
                time.sleep(self.every_s)
                self.tick()
        threading.Thread(target=loop, name="gc-freezer", daemon=True).start()


class CallLedger:
    """WSGI middleware: calls and server CPU (the serving thread's) per service operation.

    The service comes from the SigV4 credential scope, the operation from `X-Amz-Target`
    (JSON protocols) or the form's `Action` (query protocols); REST calls (S3) are counted
    by method. Two clock reads and a dict update per call."""

    PATH = "/_edu/calls"

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.calls: dict[tuple[str, str], list[float]] = {}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") == self.PATH:
            return self._answer(environ, start_response)
        key = (self.service(environ), self.operation(environ))
        began = time.thread_time()
        try:
            return self.app(environ, start_response)
        finally:
            spent = time.thread_time() - began
            with self.lock:
                row = self.calls.setdefault(key, [0, 0.0])
                row[0] += 1
                row[1] += spent

    @staticmethod
    def service(environ: dict[str, Any]) -> str:
        """The service a call is signed for (its credential scope)."""
        auth = environ.get("HTTP_AUTHORIZATION", "")
        scope = auth.partition("Credential=")[2].split(",", 1)[0].split("/")
        return scope[3] if len(scope) > 3 else "unsigned"

    @staticmethod
    def operation(environ: dict[str, Any]) -> str:
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target:
            return str(target).rsplit(".", 1)[-1]
        if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            import io
            from urllib.parse import parse_qs

            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again
            action = parse_qs(body.decode("utf-8", "replace")).get("Action")
            if action:
                return action[0]
        return str(environ.get("REQUEST_METHOD", "?"))

    def _answer(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """GET: the table. DELETE: the table, then counting starts anew (one step, so no
        call falls between a read and a reset)."""
        with self.lock:
            ordered = sorted(self.calls.items(), key=lambda item: -item[1][1])
            if environ.get("REQUEST_METHOD") == "DELETE":
                self.calls = {}
        rows = [{"service": service, "operation": operation, "calls": int(count),
                 "cpu_ms": round(cpu * 1000, 1)}
                for (service, operation), (count, cpu) in ordered]
        body = json.dumps({"calls": rows}).encode()
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(body)))])
        return [body]


# JSON-protocol target prefixes -> moto's response class for them (what its Flask views call).
DIRECT_TARGETS = {
    "DynamoDB_20120810.": ("moto.dynamodb.responses", "DynamoHandler"),
    "DynamoDBStreams_20120810.": ("moto.dynamodbstreams.responses", "DynamoDBStreamsHandler"),
    "AmazonSQS.": ("moto.sqs.responses", "SQSResponse"),
    "AWSEvents.": ("moto.events.responses", "EventsHandler"),
}


# Query-protocol services (form-encoded `Action=...`, found by the credential scope's
# service) -> moto's response class for them.
DIRECT_QUERY_SERVICES = {
    "ses": ("moto.ses.responses", "EmailResponse"),
}


class DirectDispatch:
    """WSGI middleware: JSON-protocol calls of DynamoDB (and its streams), SQS and
    EventBridge (`X-Amz-Target`) and SES's form-encoded calls go straight to moto's response
    class for the service, as moto's Flask view would call it, without Flask's request
    context, routing and response machinery (~10% of the server's time under the gate, and
    SES sends an email per event: py-spy, `edu local calls`, docs/benchmarks.md). No browser
    calls these APIs, so Flask's CORS hook has nothing to add; every other request takes
    moto's path."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.handlers: dict[tuple[str, str], Any] = {}

    def _handler(self, environ: dict[str, Any]) -> tuple[Any, str] | None:
        """moto's response class for the call and the content type it answers with."""
        if environ.get("REQUEST_METHOD") != "POST":
            return None
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        if target:
            prefix = target.split(".", 1)[0] + "."
            found = DIRECT_TARGETS.get(prefix)
            content_type = "application/x-amz-json-1.0"
        elif (environ.get("PATH_INFO") in ("", "/") and str(environ.get("CONTENT_TYPE", ""))
              .startswith("application/x-www-form-urlencoded")):
            found = DIRECT_QUERY_SERVICES.get(CallLedger.service(environ))
            content_type = "text/html; charset=utf-8"  # what Flask answers these with
        else:
            return None
        if found is None:
            return None
        if found not in self.handlers:
            import importlib

            module, name = found
            self.handlers[found] = getattr(importlib.import_module(module), name)
        return self.handlers[found], content_type

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        direct = self._handler(environ)
        if direct is None:
            return self.app(environ, start_response)
        handler, content_type = direct
        from moto.core.request import Request
        from moto.moto_api import recorder
        from werkzeug.http import HTTP_STATUS_CODES

        request = Request(environ)
        recorder._record_request(request)
        try:
            status, headers, body = handler.dispatch(request, request.raw_url,
                                                     dict(request.headers))
        except Exception:
            # What moto's Flask app answers an exception of moto's with: an empty 500, on a
            # connection that stays open. Raised into cheroot, it closed the connection
            # instead, and a client's retry on its pooled connection could meet a closed
            # socket (a test that failed once in CI).
            import traceback

            traceback.print_exc()  # to the server's log, as Flask logs it
            start_response("500 INTERNAL SERVER ERROR",
                           [("Content-Type", "text/plain"), ("Content-Length", "0")])
            return [b""]
        data = body.encode() if isinstance(body, str) else bytes(body or b"")
        out = [(str(k), str(v)) for k, v in headers.items()
               if str(k).lower() != "content-length"]
        if not any(k.lower() == "content-type" for k, _v in out):
            out.append(("Content-Type", content_type))
        out.append(("Content-Length", str(len(data))))
        start_response(f"{int(status)} {HTTP_STATUS_CODES.get(int(status), '')}", out)
        return [data]


def serve_pooled(host: str, port: int, threads: int = 32, state: Path | None = None) -> None:
    """moto's WSGI app behind cheroot: a fixed pool of threads and HTTP/1.1 keep-alive,
    instead of werkzeug's development server (a new thread and a new connection per
    request, which saturated a core under load; docs/benchmarks.md)."""
    import signal

    from cheroot import wsgi
    from moto.server import DomainDispatcherApplication, create_backend_app

    os.environ.setdefault("MOTO_PORT", str(port))
    app: Callable[..., Any] = DomainDispatcherApplication(create_backend_app)
    if os.environ.get("EDU_MOTO_DIRECT_DISPATCH", "1") != "0":  # "0": compare in moto_bench
        app = DirectDispatch(app)
    if state is not None:
        from localcloud.moto_persistence import persistent

        began = time.perf_counter()
        app, restored = persistent(app, state)
        print(f"state: {state} ({restored}; {time.perf_counter() - began:.2f} s)", flush=True)
    if os.environ.get("EDU_MOTO_LEDGER", "1") != "0":  # "0": compare in moto_bench.py
        app = CallLedger(app)
    if os.environ.get("EDU_MOTO_GC_FREEZE", "1") != "0":  # "0": CPython's default collection
        GcFreezer().run()
    server = wsgi.Server((host, port), app, numthreads=threads, request_queue_size=512,
                         timeout=30, server_name="localcloud-moto")
    # cheroot keeps at most 10 idle keep-alive connections by default and closes the rest
    # after each response; every function worker holds its own, so under load nearly every
    # call paid a new TCP connection on both sides. Idle connections wait in cheroot's
    # selector, not in a thread, so a high limit costs no threads.
    server.keep_alive_conn_limit = KEEP_ALIVE_CONNECTIONS

    def shutdown(*_: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    try:
        server.safe_start()
    finally:
        server.stop()


def install_dispatch_cache() -> None:
    """moto finds the service of every request by matching its host against each of its
    hundreds of backends' URL patterns, under a global lock: about half of the server's CPU
    per DynamoDB call (py-spy, docs/benchmarks.md). The answer for a host never changes, so
    it is remembered."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = DomainDispatcherApplication.get_backend_for_host
    known: dict[str, Any] = {}

    def cached(self: Any, host: str | None) -> Any:
        if host is None:
            return None
        if host not in known:
            backend = original(self, host)
            if backend is None:
                return None  # unknown hosts are rare and may be retried differently
            known[host] = backend
        return known[host]

    DomainDispatcherApplication.get_backend_for_host = cached  # type: ignore[method-assign]


def main() -> None:
    from localcloud.memory import return_big_buffers
    from localcloud.moto_memory import (
        install_bounded_deleted_receipts,
        install_bounded_streams,
        install_untracked_models,
    )

    return_big_buffers()
    if os.environ.get("EDU_MOTO_DISPATCH_CACHE", "1") != "0":
        install_dispatch_cache()
    if os.environ.get("EDU_MOTO_TRACK_MODELS", "0") != "1":  # "1": moto's own (compare)
        install_untracked_models()
    install_fast_query()
    install_light_transactions()
    install_atomic_writes()  # after: it wraps the lighter transaction too
    if os.environ.get("EDU_MOTO_QUEUE_FIXES", "1") != "0":  # "0": compare in moto_bench.py
        install_fast_sqs()
        install_cached_jsonpath()
        install_cached_method_names()
    if os.environ.get("EDU_MOTO_EVENT_DELIVERY", "1") != "0":  # "0": moto's own PutEvents
        install_light_event_delivery()
    install_post_policy()
    install_complete_queue_events()
    install_bounded_streams()
    install_bounded_deleted_receipts()
    if os.environ.get("EDU_MOTO_EXPRESSION_CACHE", "1") != "0":  # "0": compare in moto_bench
        install_expression_cache()
    if os.environ.get("EDU_MOTO_CHEAP_IDS", "1") != "0":  # "0": compare in moto_bench.py
        install_cheap_ids()
    if os.environ.get("EDU_MOTO_DIRECT_JSON", "1") != "0":  # "0": compare in moto_bench.py
        install_direct_dynamo_json()
    if os.environ.get("EDU_MOTO_SERVER", "pooled") == "werkzeug":  # moto's own server
        from moto.server import main as moto_main

        moto_main()
        return
    import argparse

    parser = argparse.ArgumentParser(description="moto behind a pooled HTTP server")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=4566)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--state", type=Path, default=None,
                        help="directory that keeps what the endpoint holds across restarts "
                             "(default: memory only)")
    args = parser.parse_args()
    serve_pooled(args.host, args.port, args.threads, args.state)


if __name__ == "__main__":
    main()
