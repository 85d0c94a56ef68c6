"""SQS in moto without a pass over the whole queue per call: counts in one pass, visible
messages as a lazy view, deletes in one pass per batch. Same answers as moto's own path."""

from __future__ import annotations

import os
import threading
from typing import Any

_local = threading.local()


def install_fast_sqs() -> None:
    """moto recomputes every queue attribute (three passes over all messages, reading the
    clock per message) on each `queue.attributes` access: GetQueueAttributes touched it 2x per
    name asked for, SendMessage twice, and ReceiveMessage once per message returned (its
    retention check goes through GetQueueAttributes). With a few hundred messages waiting
    that was most of the server's CPU (py-spy, docs/benchmarks/journal.md) and a backlog made every
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
