"""The event sources of a template's functions (`Triggers`), and those that read queues:
SQS mappings, and S3, SNS and EventBridge deliveries. DynamoDB stream mappings are in
`stream_mapping`, schedules in `schedules`.

SQS event source mappings poll the template's queue and invoke synchronously in batches
(BatchSize, MaximumBatchingWindowInSeconds, ReportBatchItemFailures), several batches at
once while a backlog lasts (ScalingConfig.MaximumConcurrency); the queue's own
RedrivePolicy moves poison messages to its DLQ. S3, SNS and EventBridge deliver to a
function through an internal queue the runtime owns (`edu-local-<function>-<event>`), so
delivery is at-least-once and survives a runtime restart; those invocations are asynchronous
as on AWS: a failure is retried twice (after 1 s and 2 s locally instead of minutes), then
the message moves to the internal queue's DLQ (`...-dlq`) where `edu` can show it.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from localcloud.aws import local_client
from localcloud.intrinsics import ACCOUNT_ID
from localcloud.runtime.background import Background
from localcloud.runtime.pool import FunctionPools
from localcloud.runtime.schedules import ScheduleTrigger
from localcloud.runtime.stream_mapping import DynamoStreamMapping, StreamPositions
from localcloud.runtime.trigger import (
    LogSink,
    RecordFilter,
    Trigger,
    batch_failures,
    internal_queue_name,
)
from localcloud.template import EventSource, Template

ASYNC_RETRY_DELAYS_S = (1, 2)  # AWS: ~1 min then ~2 min; shortened for a laptop
POLL_WAIT_S = 1  # long-poll seconds: bounds how long a stop waits for a poller thread
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



def _poller_limit(ev: EventSource) -> int:
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
        self.max_pollers = _poller_limit(self.ev)
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



class AsyncQueueTrigger(Trigger):
    """An AWS service invoking a function asynchronously, through an internal queue."""

    async def setup(self) -> None:
        dlq_name = internal_queue_name(self.fn, self.ev, "-dlq")
        dlq = await self.blocking(lambda: self.sqs.create_queue(QueueName=dlq_name))
        dlq_arn = f"arn:aws:sqs:{self.owner.template.region}:{ACCOUNT_ID}:{dlq_name}"
        name = internal_queue_name(self.fn, self.ev)
        attrs = {"VisibilityTimeout": str(self.fn.timeout_s + 10),
                 "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn,
                                              "maxReceiveCount": len(ASYNC_RETRY_DELAYS_S) + 1})}
        resp = await self.blocking(lambda: self.sqs.create_queue(QueueName=name))
        self.url = resp["QueueUrl"]
        await self.blocking(lambda: self.sqs.set_queue_attributes(QueueUrl=self.url,
                                                                  Attributes=attrs))
        self.dlq_url = dlq["QueueUrl"]
        self.queue_arn = f"arn:aws:sqs:{self.owner.template.region}:{ACCOUNT_ID}:{name}"
        await self.connect()

    async def connect(self) -> None:
        raise NotImplementedError

    def to_event(self, body: str) -> Any | None:
        """The function's event for a queued message; None to drop it (e.g. test events)."""
        raise NotImplementedError

    async def run(self) -> None:
        while True:
            resp = await self.blocking(lambda: self.sqs.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=POLL_WAIT_S,
                AttributeNames=["ApproximateReceiveCount"]))
            for msg in resp.get("Messages", []):
                await self.deliver(msg)

    async def deliver(self, msg: dict[str, Any]) -> None:
        try:
            event = self.to_event(msg["Body"])
        except (ValueError, KeyError, TypeError):
            event = None
            self.owner.log(f"[{self.label}] unreadable message dropped: {msg['Body'][:200]}")
        if event is not None:
            result = await self.invoke(event)
            if not result.ok:
                attempt = int(msg.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
                delay = ASYNC_RETRY_DELAYS_S[min(attempt, len(ASYNC_RETRY_DELAYS_S)) - 1]
                if attempt > len(ASYNC_RETRY_DELAYS_S):
                    delay = 0  # next receive moves it to the DLQ
                self.owner.log(f"[{self.label}] async invoke failed ({result.status}), attempt "
                               f"{attempt}; {'retrying' if delay else 'to the DLQ'}")
                await self.blocking(lambda: self.sqs.change_message_visibility(
                    QueueUrl=self.url, ReceiptHandle=msg["ReceiptHandle"],
                    VisibilityTimeout=delay))
                self.owner.delivered(self, 0, 1)
                return
            self.owner.delivered(self, 1, 0)
        await self.blocking(lambda: self.sqs.delete_message(QueueUrl=self.url,
                                                            ReceiptHandle=msg["ReceiptHandle"]))


class S3Trigger(AsyncQueueTrigger):
    async def connect(self) -> None:
        s3 = self.owner.client("s3")
        bucket = str(self.ev.properties["Bucket"])
        events = self.ev.properties.get("Events") or ["s3:ObjectCreated:*"]
        events = [events] if isinstance(events, str) else list(events)
        rules = (((self.ev.properties.get("Filter") or {}).get("S3Key") or {}).get("Rules")
                 or [])
        ident = internal_queue_name(self.fn, self.ev)
        mine: dict[str, Any] = {"Id": ident, "QueueArn": self.queue_arn, "Events": events}
        if rules:
            mine["Filter"] = {"Key": {"FilterRules": [{"Name": r["Name"], "Value": r["Value"]}
                                                      for r in rules]}}

        def merge() -> None:
            current = s3.get_bucket_notification_configuration(Bucket=bucket)
            current.pop("ResponseMetadata", None)
            queues = [q for q in current.get("QueueConfigurations", []) if q.get("Id") != ident]
            current["QueueConfigurations"] = [*queues, mine]
            s3.put_bucket_notification_configuration(Bucket=bucket,
                                                     NotificationConfiguration=current)

        await self.blocking(merge)

    def to_event(self, body: str) -> Any | None:
        data = json.loads(body)
        if data.get("Event") == "s3:TestEvent" or "Records" not in data:
            return None
        return {"Records": data["Records"]}


class EventBridgeTrigger(AsyncQueueTrigger):
    async def connect(self) -> None:
        events = self.owner.client("events")
        props = self.ev.properties
        bus = str(props.get("EventBusName", "default")).rsplit("/", 1)[-1]
        rule = internal_queue_name(self.fn, self.ev)
        target: dict[str, Any] = {"Id": "edu-local", "Arn": self.queue_arn}
        if "Input" in props:
            target["Input"] = props["Input"]
        if "InputPath" in props:
            target["InputPath"] = props["InputPath"]

        def wire() -> None:
            events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps(
                props.get("Pattern") or {}), State=props.get("State", "ENABLED"))
            events.put_targets(Rule=rule, EventBusName=bus, Targets=[target])

        await self.blocking(wire)

    def to_event(self, body: str) -> Any | None:
        return json.loads(body)


class SnsTrigger(AsyncQueueTrigger):
    async def connect(self) -> None:
        sns = self.owner.client("sns")
        props = self.ev.properties
        attrs: dict[str, str] = {}
        if props.get("FilterPolicy"):
            attrs["FilterPolicy"] = json.dumps(props["FilterPolicy"])
        if props.get("FilterPolicyScope"):
            attrs["FilterPolicyScope"] = str(props["FilterPolicyScope"])
        resp = await self.blocking(lambda: sns.subscribe(
            TopicArn=str(props["Topic"]), Protocol="sqs", Endpoint=self.queue_arn,
            Attributes=attrs, ReturnSubscriptionArn=True))
        self.subscription_arn = resp["SubscriptionArn"]

    def to_event(self, body: str) -> Any | None:
        env = json.loads(body)
        if env.get("Type") != "Notification":
            return None
        sns = {k: env.get(k) for k in ("Type", "MessageId", "TopicArn", "Subject", "Message",
                                       "Timestamp", "SignatureVersion", "Signature",
                                       "SigningCertUrl", "UnsubscribeUrl")}
        sns["SigningCertUrl"] = env.get("SigningCertURL", sns.get("SigningCertUrl"))
        sns["UnsubscribeUrl"] = env.get("UnsubscribeURL", sns.get("UnsubscribeUrl"))
        sns["MessageAttributes"] = env.get("MessageAttributes") or {}
        return {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
                             "EventSubscriptionArn": self.subscription_arn, "Sns": sns}]}



# --- the set of all triggers ---------------------------------------------------------------

_KINDS: dict[str, type[Trigger]] = {
    "SQS": SqsMapping, "S3": S3Trigger, "EventBridgeRule": EventBridgeTrigger,
    "CloudWatchEvent": EventBridgeTrigger, "SNS": SnsTrigger, "Schedule": ScheduleTrigger,
    "ScheduleV2": ScheduleTrigger, "DynamoDB": DynamoStreamMapping,
}


class Triggers:
    def __init__(self, template: Template, runtime: FunctionPools, endpoint: str,
                 log: LogSink = print, positions: Path | None = None) -> None:
        self.template = template
        self.runtime = runtime
        self.endpoint = endpoint
        self.log = log
        self.positions = StreamPositions(positions)
        self.triggers: list[Trigger] = []
        self.background = Background()
        self.counts: dict[str, list[int]] = {}
        self._clients: dict[str, Any] = {}
        for fn in template.functions.values():
            for ev in fn.events:
                kind = _KINDS.get(ev.type)
                if kind is None:
                    if ev.type not in ("HttpApi", "Api"):
                        self.log(f"edu: {fn.name}/{ev.name}: event type {ev.type} is not "
                                 "supported locally and is ignored")
                    continue
                if ev.properties.get("Enabled") is False:
                    continue
                self.triggers.append(kind(self, fn, ev))
        # One thread per long-polling poller (a mapping's extra pollers included), so
        # pollers never starve each other.
        pollers = sum(_poller_limit(t.ev) if isinstance(t, SqsMapping) else 1
                      for t in self.triggers)
        self.executor = ThreadPoolExecutor(max_workers=max(4, pollers + 2),
                                           thread_name_prefix="edu-trigger")

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = local_client(service, self.endpoint, self.template.region)
        return self._clients[service]

    def delivered(self, trigger: Trigger, ok: int, failed: int) -> None:
        counts = self.counts.setdefault(trigger.label, [0, 0])
        counts[0] += ok
        counts[1] += failed

    async def start(self) -> None:
        for trigger in self.triggers:
            await trigger.setup()
            self.background.start(self._guard(trigger))

    async def _guard(self, trigger: Trigger) -> None:
        """Keeps a trigger polling through transient errors (e.g. the endpoint restarting)."""
        while True:
            try:
                await trigger.run()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.log(f"[{trigger.label}] poller error: {type(exc).__name__}: {exc}; "
                         "retrying in 1s")
                await asyncio.sleep(1)

    async def stop(self) -> None:
        for stuck in await self.background.cancel_all():
            self.log(f"edu: a trigger task did not stop when cancelled: {stuck}")
        self.executor.shutdown(wait=False, cancel_futures=True)
