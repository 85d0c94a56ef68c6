"""SQS event source mappings: poll the template's queue and invoke synchronously in batches
(BatchSize, MaximumBatchingWindowInSeconds, ReportBatchItemFailures, FilterCriteria),
several batches at once while a backlog lasts (ScalingConfig.MaximumConcurrency); the
queue's own RedrivePolicy moves poison messages to its DLQ."""

from __future__ import annotations

import asyncio
import functools
import os
import time
from typing import Any

from localcloud.runtime.trigger import (
    POLL_WAIT_S,
    RecordFilter,
    Trigger,
    batch_failures,
)
from localcloud.template import EventSource

# Concurrent batches per SQS mapping on a backlog, unless ScalingConfig.MaximumConcurrency
# says otherwise (Lambda starts reading a backlog with five batches at once).
# EDU_SQS_POLLERS changes that default (1 = one batch at a time, to measure the difference).
SQS_POLLERS = int(os.environ.get("EDU_SQS_POLLERS", "5"))
BATCH_SWEEP_S = 0.25  # how often a batching window looks for more messages (each look is a
# ReceiveMessage: at 0.1 s a gate run made 3.6 per delivered batch, docs/benchmarks.md)


def sqs_record(msg: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    attrs = msg.get("Attributes", {})
    return {
        "messageId": msg["MessageId"],
        "receiptHandle": msg["ReceiptHandle"],
        "body": msg["Body"],
        "attributes": {k: attrs[k] for k in (
            "ApproximateReceiveCount", "SentTimestamp", "SenderId",
            "ApproximateFirstReceiveTimestamp", "MessageGroupId", "MessageDeduplicationId",
            "SequenceNumber") if k in attrs},
        "messageAttributes": {
            name: {"stringValue": a.get("StringValue"), "binaryValue": a.get("BinaryValue"),
                   "stringListValues": [], "binaryListValues": [], "dataType": a["DataType"]}
            for name, a in (msg.get("MessageAttributes") or {}).items()},
        "md5OfBody": msg.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }



def poller_limit(ev: EventSource) -> int:
    scaling = ev.properties.get("ScalingConfig") or {}
    return max(1, int(scaling.get("MaximumConcurrency", SQS_POLLERS)))


class SqsMapping(Trigger):
    async def setup(self) -> None:
        arn = str(self.ev.properties["Queue"])
        self.queue_arn = arn
        name = arn.rsplit(":", 1)[-1]
        self.url = (await self.blocking(lambda: self.sqs.get_queue_url(QueueName=name)))[
            "QueueUrl"]
        props = self.ev.properties
        self.batch_size = int(props.get("BatchSize", 10))
        self.window_s = float(props.get("MaximumBatchingWindowInSeconds", 0))
        self.partial = "ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or [])
        self.max_pollers = poller_limit(self.ev)
        self.pollers = 1
        self.filter = RecordFilter(props)

    async def receive_batch(self) -> list[dict[str, Any]]:
        """One batch: long-polls for a first message, then gathers more until the batch is
        full or MaximumBatchingWindowInSeconds has passed since that first message. SQS waits
        in whole seconds, so within the window the queue is swept every BATCH_SWEEP_S rather
        than asked again and again with no wait (which kept moto and a thread busy)."""
        batch = await self._receive(POLL_WAIT_S, self.batch_size)
        deadline = time.monotonic() + self.window_s
        while batch and len(batch) < self.batch_size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            await asyncio.sleep(min(BATCH_SWEEP_S, remaining))
            batch += await self._receive(0, self.batch_size - len(batch))
        # A message whose visibility timeout is shorter than the window comes back while the
        # batch gathers: keep it once, with its latest receipt handle (the one that deletes).
        return list({m["MessageId"]: m for m in batch}.values())

    async def _receive(self, wait_s: int, want: int) -> list[dict[str, Any]]:
        received: list[dict[str, Any]] = []
        while len(received) < want:  # SQS hands out at most 10 per call
            resp = await self.blocking(functools.partial(
                self.sqs.receive_message, QueueUrl=self.url,
                MaxNumberOfMessages=min(10, want - len(received)), WaitTimeSeconds=wait_s,
                AttributeNames=["All"], MessageAttributeNames=["All"]))
            got = resp.get("Messages", [])
            received += got
            if len(got) < 10:
                break
            wait_s = 0  # more may be waiting: take them, but do not wait for them
        return received

    async def run(self) -> None:
        await self._poll(extra=False)

    async def _poll(self, extra: bool) -> None:
        """Receives and delivers batches. A full batch means more are waiting: like Lambda,
        which reads a backlog with several batches at once, another poller joins (up to
        ScalingConfig.MaximumConcurrency, default SQS_POLLERS); an extra poller leaves once
        a batch comes back short, so an idle queue keeps one long-poll."""
        while True:
            batch = await self.receive_batch()
            if len(batch) >= self.batch_size and self.pollers < self.max_pollers:
                self.pollers += 1
                self.owner.background.start(self._extra_poller())
            if batch:
                await self._deliver(batch)
            if extra and len(batch) < self.batch_size:
                return

    async def _extra_poller(self) -> None:
        try:
            await self._poll(extra=True)
        except Exception as exc:  # the first poller keeps going (and retries errors)
            self.owner.log(f"[{self.label}] extra poller stopped: {type(exc).__name__}: {exc}")
        finally:
            self.pollers -= 1

    async def _deliver(self, batch: list[dict[str, Any]]) -> None:
        region = self.owner.template.region
        records = [sqs_record(m, self.queue_arn, region) for m in batch]
        if self.filter:  # as Lambda does, messages the filter drops are deleted
            wanted = [self.filter.wanted_message(r) for r in records]
            await self._delete([m for m, keep in zip(batch, wanted, strict=True) if not keep])
            batch = [m for m, keep in zip(batch, wanted, strict=True) if keep]
            records = [r for r, keep in zip(records, wanted, strict=True) if keep]
            if not batch:
                return
        event = {"Records": records}
        result = await self.invoke(event)
        if result.status == "throttled":
            await self._retry_soon(batch)
            return
        if not result.ok:
            self.owner.log(f"[{self.label}] batch of {len(batch)} failed ({result.status}); "
                           "messages return after the visibility timeout")
            return
        ids = {m["MessageId"] for m in batch}
        failed = batch_failures(result.payload, ids) if self.partial else set()
        if failed is None:
            self.owner.log(f"[{self.label}] invalid batchItemFailures: whole batch retried")
            return
        done = [m for m in batch if m["MessageId"] not in failed]
        await self._delete(done)
        self.owner.delivered(self, len(done), len(failed))

    async def _delete(self, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), 10):
            chunk = messages[start:start + 10]
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                       for i, m in enumerate(chunk)]
            await self.blocking(functools.partial(self.sqs.delete_message_batch,
                                                  QueueUrl=self.url, Entries=entries))

    async def _retry_soon(self, messages: list[dict[str, Any]]) -> None:
        for m in messages:
            await self.blocking(functools.partial(
                self.sqs.change_message_visibility, QueueUrl=self.url,
                ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=1))
