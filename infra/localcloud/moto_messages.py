"""SQS messages kept across restarts of the local AWS endpoint.

A message is written to the store as moto adds it to a queue, whatever sent it (SendMessage,
an SNS topic, an EventBridge rule, a redrive to a DLQ), before the call that sent it is
answered. Messages that left a queue (deleted, purged, expired, moved to a DLQ, their queue
deleted) are forgotten by a sweep once a second, so after a `kill -9` a message deleted in
the last second may be delivered again: at-least-once, as SQS promises anyway. At start every
kept message is visible again (in flight ones too: their receipt handles died with the
process, as a visibility timeout would have made them visible), with its receive count.
"""

from __future__ import annotations

import pickle
import threading
from typing import Any

from localcloud.moto_state import StateStore


class MessageKeeper:
    def __init__(self, store: StateStore) -> None:
        self.store = store
        self.kept: dict[tuple[str, str], set[str]] = {}  # (region, queue) -> ids on disk
        self.guard = threading.Lock()

    def install(self) -> None:
        """Writes each message moto adds to a queue."""
        from moto.sqs.models import Queue

        add_message = Queue.add_message
        keeper = self

        def add_and_keep(queue: Any, message: Any) -> None:
            add_message(queue, message)
            if any(m is message for m in reversed(queue._messages)):  # not a FIFO duplicate
                keeper.keep(queue, message)

        Queue.add_message = add_and_keep  # type: ignore[method-assign,assignment]

    def keep(self, queue: Any, message: Any) -> None:
        doc = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        self.store.put_message(queue.region, queue.name, message.id, doc)
        with self.guard:
            self.kept.setdefault((queue.region, queue.name), set()).add(message.id)

    def restore(self) -> int:
        """Puts the kept messages back in their queues, visible; returns how many."""
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.sqs.models import sqs_backends

        restored = 0
        orphans = set()
        for region, name, message_id, doc in self.store.messages():
            queue = sqs_backends[DEFAULT_ACCOUNT_ID][region].queues.get(name)
            if queue is None:  # its queue was deleted before the messages were swept
                orphans.add((region, name))
                continue
            message = pickle.loads(doc)  # our own file, written by keep()
            message.receipt_handle = None
            message._old_receipt_handles = []
            message.visible_at = 0.0
            queue._messages.append(message)
            self.kept.setdefault((region, name), set()).add(message_id)
            restored += 1
        for region, name in orphans:
            self.store.drop_messages(region, name, None)
        return restored

    def sweep(self) -> None:
        """Forgets the messages no queue holds any more."""
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.sqs.models import sqs_backends

        with self.guard:
            tracked = {key: set(ids) for key, ids in self.kept.items() if ids}
        for (region, name), ids in tracked.items():
            queue = sqs_backends[DEFAULT_ACCOUNT_ID][region].queues.get(name)
            live = {m.id for m in list(queue._messages)} if queue is not None else set()
            gone = ids - live
            if not gone:
                continue
            self.store.drop_messages(region, name, gone)
            with self.guard:
                self.kept[(region, name)] -= gone
