"""Event sources for local functions: SQS mappings, DynamoDB streams, S3, SNS, EventBridge
rules, schedules.

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
import base64
import functools
import hashlib
import json
import os
import re
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from localcloud.aws import local_client
from localcloud.runtime.background import Background
from localcloud.runtime.pool import InvokeResult, Runtime
from localcloud.template import ACCOUNT_ID, EventSource, Function, Template

LogSink = Callable[[str], None]
ASYNC_RETRY_DELAYS_S = (1, 2)  # AWS: ~1 min then ~2 min; shortened for a laptop
POLL_WAIT_S = 1  # long-poll seconds: bounds how long a stop waits for a poller thread
# Concurrent batches per SQS mapping on a backlog, unless ScalingConfig.MaximumConcurrency
# says otherwise (Lambda starts reading a backlog with five batches at once).
# EDU_SQS_POLLERS changes that default (1 = one batch at a time, to measure the difference).
SQS_POLLERS = int(os.environ.get("EDU_SQS_POLLERS", "5"))
BATCH_SWEEP_S = 0.25  # how often a batching window looks for more messages (each look is a
# ReceiveMessage: at 0.1 s a gate run made 3.6 per delivered batch, docs/benchmarks.md)
INTERNAL_PREFIX = "edu-local-"
STREAM_POLL_S = 0.25  # Lambda reads each stream shard about four times a second
STREAM_RETRY_DELAYS_S = (0.5, 1, 2, 4)  # between retries of a failed stream batch (capped)
STREAM_UNSUPPORTED = {"ParallelizationFactor", "BisectBatchOnFunctionError",
                      "TumblingWindowInSeconds", "MaximumRecordAgeInSeconds",
                      "StartingPositionTimestamp"}


def internal_queue_name(fn: Function, ev: EventSource, suffix: str = "") -> str:
    base = re.sub(r"[^A-Za-z0-9_-]", "-", f"{INTERNAL_PREFIX}{fn.name}-{ev.name}")
    if len(base) + len(suffix) > 80:  # SQS's limit: keep it unique with a short hash
        digest = hashlib.sha1(base.encode()).hexdigest()[:8]
        base = base[: 80 - len(suffix) - 9] + "-" + digest
    return base + suffix


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


def batch_failures(payload: Any, message_ids: set[str]) -> set[str] | None:
    """Failed message ids of a partial batch response; None when the response is invalid
    (then, as on AWS, the whole batch counts as failed)."""
    if payload is None or payload == {}:
        return set()
    if not isinstance(payload, dict) or "batchItemFailures" not in payload:
        return set()
    items = payload.get("batchItemFailures")
    if items is None:
        return set()
    if not isinstance(items, list):
        return None
    failed = set()
    for item in items:
        ident = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not ident or ident not in message_ids:
            return None
        failed.add(str(ident))
    return failed


class Trigger:
    """One event source of one function."""

    def __init__(self, owner: Triggers, fn: Function, ev: EventSource) -> None:
        self.owner = owner
        self.fn = fn
        self.ev = ev
        self.sqs = owner.client("sqs")

    @property
    def label(self) -> str:
        return f"{self.fn.name}/{self.ev.name} ({self.ev.type})"

    async def setup(self) -> None:
        pass

    async def run(self) -> None:
        raise NotImplementedError

    async def blocking(self, call: Callable[[], Any]) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.owner.executor, call)

    async def invoke(self, event: Any) -> InvokeResult:
        return await self.owner.runtime.invoke(self.fn.name, event)


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
        event = {"Records": [sqs_record(m, self.queue_arn, region) for m in batch]}
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


def _jsonable(value: Any) -> Any:
    """A stream record as Lambda passes it: binary attribute values base64, times epoch."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return value.timestamp()
    return value


class DynamoStreamMapping(Trigger):
    """A DynamoDB stream event source mapping: reads the table's stream in order, keeps the
    records FilterCriteria matches, invokes synchronously in batches (BatchSize,
    MaximumBatchingWindowInSeconds). A failed batch is retried, from its first failed record
    when the function reports one (ReportBatchItemFailures), else whole, up to
    MaximumRetryAttempts (-1: until it succeeds, which holds the stream back, as on AWS);
    then a description of the records goes to DestinationConfig.OnFailure (an SQS queue)
    and the mapping moves past them. Positions are kept in the runtime's memory: a restarted
    runtime starts again at StartingPosition (consumers must be idempotent anyway)."""

    async def setup(self) -> None:
        props = self.ev.properties
        for key in STREAM_UNSUPPORTED & set(props):
            self.owner.log(f"edu: {self.label}: {key} is not supported locally and is ignored")
        self.table = str(props["Stream"]).split(":table/", 1)[-1].split("/", 1)[0]
        stream_arn = await self.latest_stream()
        if not stream_arn:
            raise ValueError(f"table {self.table} has no stream: give it a StreamSpecification")
        self.streams = self.owner.client("dynamodbstreams")
        self.batch_size = int(props.get("BatchSize", 100))
        self.window_s = float(props.get("MaximumBatchingWindowInSeconds", 0))
        self.partial = "ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or [])
        self.max_retries = int(props.get("MaximumRetryAttempts", -1))
        self.on_failure = str((((props.get("DestinationConfig") or {}).get("OnFailure") or {})
                               .get("Destination")) or "")
        filters = (props.get("FilterCriteria") or {}).get("Filters") or []
        self.patterns: list[Any] = []
        if filters:
            from moto.events.models import EventPattern  # AWS filters use EventBridge patterns

            self.patterns = [EventPattern.load(str(f["Pattern"])) for f in filters]
        await self.open(stream_arn, str(props.get("StartingPosition", "LATEST")))
        self.buffer: list[dict[str, Any]] = []

    async def latest_stream(self) -> str:
        """The table's current stream ARN ('' when it has none)."""
        ddb = self.owner.client("dynamodb")
        described = (await self.blocking(lambda: ddb.describe_table(
            TableName=self.table)))["Table"]
        return str(described.get("LatestStreamArn") or "")

    async def open(self, stream_arn: str, position: str) -> None:
        """Reads `stream_arn` from `position` (LATEST or TRIM_HORIZON) on."""
        shards = (await self.blocking(lambda: self.streams.describe_stream(
            StreamArn=stream_arn)))["StreamDescription"]["Shards"]
        self.stream_arn = stream_arn
        self.shard_id = str(shards[0]["ShardId"])  # moto keeps one shard per stream
        self.iterator = (await self.blocking(lambda: self.streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=self.shard_id,
            ShardIteratorType=position)))["ShardIterator"]

    def lambda_record(self, raw: dict[str, Any]) -> dict[str, Any]:
        return {"eventID": raw.get("eventID", ""), "eventName": raw.get("eventName", ""),
                "eventVersion": raw.get("eventVersion", "1.1"), "eventSource": "aws:dynamodb",
                "awsRegion": self.owner.template.region,
                "dynamodb": _jsonable(raw.get("dynamodb") or {}),
                "eventSourceARN": self.stream_arn}

    def wanted(self, record: dict[str, Any]) -> bool:
        return not self.patterns or any(p.matches_event(record) for p in self.patterns)

    async def fetch(self) -> None:
        try:
            resp = await self.blocking(lambda: self.streams.get_records(
                ShardIterator=self.iterator, Limit=1000))
        except Exception:
            if not await self.reattached():
                raise
            return
        self.take(resp)

    async def reattached(self) -> bool:
        """After the local endpoint restarted on its state the table has a new stream (and
        the old iterator is unknown): read the new one from its start, which holds every
        change since the restart. False when the stream is the same one."""
        latest = await self.latest_stream()
        if not latest or latest == self.stream_arn:
            return False
        await self.open(latest, "TRIM_HORIZON")
        self.owner.log(f"[{self.label}] the table's stream is new (the endpoint restarted): "
                       "reading it from its start")
        return True

    def take(self, resp: dict[str, Any]) -> None:
        self.iterator = resp.get("NextShardIterator") or self.iterator
        records = [self.lambda_record(r) for r in resp.get("Records", [])]
        self.buffer += [r for r in records if self.wanted(r)]

    async def next_batch(self) -> list[dict[str, Any]]:
        """Records for one invocation: as soon as BatchSize are waiting, else what came
        within MaximumBatchingWindowInSeconds of the first; empty after an idle poll."""
        if not self.buffer:
            await self.fetch()
            if not self.buffer:
                await asyncio.sleep(STREAM_POLL_S)
                return []
        deadline = time.monotonic() + self.window_s
        while len(self.buffer) < self.batch_size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            await asyncio.sleep(min(STREAM_POLL_S, remaining))
            await self.fetch()
        batch, self.buffer = self.buffer[:self.batch_size], self.buffer[self.batch_size:]
        return batch

    async def run(self) -> None:
        while True:
            batch = await self.next_batch()
            if batch:
                await self.deliver(batch)

    async def deliver(self, batch: list[dict[str, Any]]) -> None:
        retries = 0
        while True:
            result = await self.invoke({"Records": batch})
            if result.status == "throttled":
                await asyncio.sleep(STREAM_POLL_S)
                continue
            first_failed = self.first_failed(result, batch)
            self.owner.delivered(self, first_failed if first_failed is not None
                                 else len(batch), 0)
            if first_failed is None:
                return
            batch = batch[first_failed:]
            retries += 1
            if 0 <= self.max_retries < retries:
                await self.give_up(batch, retries, result)
                return
            delay = STREAM_RETRY_DELAYS_S[min(retries, len(STREAM_RETRY_DELAYS_S)) - 1]
            self.owner.log(f"[{self.label}] {len(batch)} records failed ({result.status}); "
                           f"retry {retries} in {delay}s")
            await asyncio.sleep(delay)

    def first_failed(self, result: InvokeResult, batch: list[dict[str, Any]]) -> int | None:
        """Where the batch must be retried from: None when it all succeeded."""
        if not result.ok:
            return 0
        if not self.partial:
            return None
        sequences = [str(r["dynamodb"].get("SequenceNumber", "")) for r in batch]
        failed = batch_failures(result.payload, set(sequences))
        if failed is None:
            self.owner.log(f"[{self.label}] invalid batchItemFailures: whole batch retried")
            return 0
        return min((i for i, seq in enumerate(sequences) if seq in failed), default=None)

    async def give_up(self, batch: list[dict[str, Any]], retries: int,
                      result: InvokeResult) -> None:
        self.owner.delivered(self, 0, len(batch))
        first, last = batch[0]["dynamodb"], batch[-1]["dynamodb"]
        record = {
            "requestContext": {"requestId": result.request_id, "functionArn": self.fn.arn,
                               "condition": "RetryAttemptsExhausted",
                               "approximateInvokeCount": retries},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                                "functionError": "" if result.ok else "Unhandled"},
            "version": "1.0", "timestamp": datetime.now(UTC).isoformat(),
            "DDBStreamBatchInfo": {
                "shardId": self.shard_id, "streamArn": self.stream_arn,
                "startSequenceNumber": first.get("SequenceNumber"),
                "endSequenceNumber": last.get("SequenceNumber"),
                "approximateArrivalOfFirstRecord": first.get("ApproximateCreationDateTime"),
                "approximateArrivalOfLastRecord": last.get("ApproximateCreationDateTime"),
                "batchSize": len(batch)}}
        self.owner.log(f"[{self.label}] gave up on {len(batch)} records after {retries} "
                       f"retries{'; described in ' + self.on_failure if self.on_failure else ''}")
        if self.on_failure:
            name = self.on_failure.rsplit(":", 1)[-1]
            url = (await self.blocking(lambda: self.sqs.get_queue_url(QueueName=name)))[
                "QueueUrl"]
            await self.blocking(lambda: self.sqs.send_message(QueueUrl=url,
                                                              MessageBody=json.dumps(record)))


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


class ScheduleTrigger(Trigger):
    async def setup(self) -> None:
        props = self.ev.properties
        expr = str(props.get("Schedule") or props.get("ScheduleExpression") or "")
        self.schedule = parse_schedule(expr)
        enabled = props.get("Enabled", True)
        self.enabled = enabled and props.get("State", "ENABLED") != "DISABLED"
        self.input = props.get("Input")
        self.rule_arn = (f"arn:aws:events:{self.owner.template.region}:{ACCOUNT_ID}:rule/"
                         f"{internal_queue_name(self.fn, self.ev)}")

    async def run(self) -> None:
        if not self.enabled:
            return
        while True:
            now = datetime.now(UTC)
            due = self.schedule.next_after(now)
            await asyncio.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
            if self.input is not None:
                event: Any = json.loads(self.input) if isinstance(self.input, str) else self.input
            else:
                event = {"version": "0", "id": str(uuid.uuid4()), "detail-type":
                         "Scheduled Event", "source": "aws.events", "account": ACCOUNT_ID,
                         "time": due.strftime("%Y-%m-%dT%H:%M:%SZ"),
                         "region": self.owner.template.region,
                         "resources": [self.rule_arn], "detail": {}}
            result = await self.invoke(event)
            self.owner.delivered(self, int(result.ok), int(not result.ok))


# --- schedules -------------------------------------------------------------------------


class Schedule:
    def next_after(self, now: datetime) -> datetime:
        raise NotImplementedError


class RateSchedule(Schedule):
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.start = datetime.now(UTC)

    def next_after(self, now: datetime) -> datetime:
        elapsed = (now - self.start).total_seconds()
        periods = int(elapsed // self.seconds) + 1
        return self.start + timedelta(seconds=periods * self.seconds)


_MONTHS = {m: i + 1 for i, m in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"])}
_DAYS = {d: i + 1 for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}


def _field(text: str, lo: int, hi: int, names: dict[str, int] | None = None) -> set[int] | None:
    """Values a cron field allows; None for `?` / `*` (anything)."""
    if text in ("*", "?"):
        return None
    out: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = int(step_text)
        if part in ("*", ""):
            start, end = lo, hi
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = _value(a, names), _value(b, names)
        else:
            start = _value(part, names)
            end = hi if step > 1 else start
        if not (lo <= start <= hi and lo <= end <= hi):
            raise ValueError(f"cron field value out of range {lo}-{hi}: {text}")
        out.update(range(start, end + 1, step))
    return out


def _value(text: str, names: dict[str, int] | None) -> int:
    text = text.upper()
    if names and text in names:
        return names[text]
    if not text.isdigit():
        raise ValueError(f"unsupported cron token {text!r} (L, W and # are not supported)")
    return int(text)


class CronSchedule(Schedule):
    """AWS cron: minutes hours day-of-month month day-of-week year (UTC)."""

    def __init__(self, expr: str) -> None:
        parts = expr.split()
        if len(parts) != 6:
            raise ValueError(f"cron({expr}) needs 6 fields")
        self.minutes = _field(parts[0], 0, 59)
        self.hours = _field(parts[1], 0, 23)
        self.dom = _field(parts[2], 1, 31)
        self.months = _field(parts[3], 1, 12, _MONTHS)
        self.dow = _field(parts[4], 1, 7, _DAYS)
        self.years = _field(parts[5], 1970, 2199)

    def matches(self, t: datetime) -> bool:
        aws_dow = (t.isoweekday() % 7) + 1  # AWS: 1 = Sunday
        return all(allowed is None or value in allowed for allowed, value in (
            (self.minutes, t.minute), (self.hours, t.hour), (self.dom, t.day),
            (self.months, t.month), (self.dow, aws_dow), (self.years, t.year)))

    def next_after(self, now: datetime) -> datetime:
        t = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
        for _ in range(366 * 24 * 60):  # a year of minutes at most
            if self.matches(t):
                return t
            t += timedelta(minutes=1)
        raise ValueError("cron expression never fires within a year")


def parse_schedule(expr: str) -> Schedule:
    m = re.fullmatch(r"rate\((\d+)\s+(minute|minutes|hour|hours|day|days|second|seconds)\)",
                     expr.strip())
    if m:
        unit = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}[m.group(2).rstrip("s")]
        return RateSchedule(int(m.group(1)) * unit)
    m = re.fullmatch(r"cron\((.+)\)", expr.strip())
    if m:
        return CronSchedule(m.group(1))
    raise ValueError(f"unsupported schedule expression {expr!r}")


# --- the set of all triggers ---------------------------------------------------------------

_KINDS: dict[str, type[Trigger]] = {
    "SQS": SqsMapping, "S3": S3Trigger, "EventBridgeRule": EventBridgeTrigger,
    "CloudWatchEvent": EventBridgeTrigger, "SNS": SnsTrigger, "Schedule": ScheduleTrigger,
    "ScheduleV2": ScheduleTrigger, "DynamoDB": DynamoStreamMapping,
}


class Triggers:
    def __init__(self, template: Template, runtime: Runtime, endpoint: str,
                 log: LogSink = print) -> None:
        self.template = template
        self.runtime = runtime
        self.endpoint = endpoint
        self.log = log
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
