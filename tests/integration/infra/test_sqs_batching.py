"""An SQS event source mapping's batching window: it gathers messages for
MaximumBatchingWindowInSeconds after the first one, stops early when the batch is full, and
sweeps the queue a bounded number of times meanwhile (it used to ask SQS again and again with
no wait, keeping the local AWS server busy for the whole window)."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from typing import Any

import pytest

from localcloud.runtime.sqs_mapping import BATCH_SWEEP_S, SqsMapping
from localcloud.runtime.triggers import Triggers
from localcloud.template import load_template
from tests.conftest import LocalCloud
from tests.integration.infra.conftest import FIXTURE


@pytest.fixture
def mapping(cloud: LocalCloud) -> Any:
    """The fixture template's SQS mapping (BatchSize 5, window 1 s), reading a fresh queue of
    its own so the running runtime's poller of the template's queue does not interfere."""
    template = load_template(FIXTURE, endpoint=cloud.aws_url)
    triggers = Triggers(template, runtime=None, endpoint=cloud.aws_url,  # type: ignore[arg-type]
                        log=lambda _line: None)
    trigger = next(t for t in triggers.triggers if isinstance(t, SqsMapping))
    trigger.batch_size = 5
    trigger.window_s = 1.0
    trigger.url = trigger.sqs.create_queue(QueueName=f"gather-{uuid.uuid4().hex}")["QueueUrl"]
    trigger.receives = 0

    def count(**_: Any) -> None:
        trigger.receives += 1

    trigger.sqs.meta.events.register("before-call.sqs.ReceiveMessage", count)
    yield trigger
    triggers.executor.shutdown(wait=False)


def send(trigger: Any, *bodies: str) -> None:
    for body in bodies:
        trigger.sqs.send_message(QueueUrl=trigger.url, MessageBody=body)


def test_the_window_gathers_late_messages_with_few_receives(mapping: Any) -> None:
    send(mapping, "first")
    later = threading.Timer(0.4, send, args=(mapping, "second", "third"))
    later.start()
    started = time.monotonic()
    batch = asyncio.run(mapping.receive_batch())
    elapsed = time.monotonic() - started
    later.join()
    assert sorted(m["Body"] for m in batch) == ["first", "second", "third"]
    assert 0.9 <= elapsed < 2.0  # waited out the window for a batch that never filled
    # One long poll, then one sweep per BATCH_SWEEP_S of the window (with some slack).
    assert mapping.receives <= 2 + mapping.window_s / BATCH_SWEEP_S + 2


def test_a_full_batch_does_not_wait_for_the_window(mapping: Any) -> None:
    send(mapping, *[f"m{i}" for i in range(7)])
    started = time.monotonic()
    batch = asyncio.run(mapping.receive_batch())
    assert len(batch) == 5
    assert time.monotonic() - started < 0.8
    rest = asyncio.run(mapping.receive_batch())
    assert sorted(m["Body"] for m in batch + rest) == sorted(f"m{i}" for i in range(7))


def test_an_empty_queue_returns_an_empty_batch_after_one_long_poll(mapping: Any) -> None:
    assert asyncio.run(mapping.receive_batch()) == []
    assert mapping.receives == 1
