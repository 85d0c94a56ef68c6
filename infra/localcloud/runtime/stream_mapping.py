"""DynamoDB stream event source mappings (`DynamoStreamMapping`) and where each has read
up to (`StreamPositions`)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from localcloud.runtime.invocation import InvokeResult
from localcloud.runtime.trigger import RecordFilter, Trigger, batch_failures

STREAM_POLL_S = 0.25  # Lambda reads each stream shard about four times a second
STREAM_RETRY_DELAYS_S = (0.5, 1, 2, 4)  # between retries of a failed stream batch (capped)
STREAM_UNSUPPORTED = {"ParallelizationFactor", "BisectBatchOnFunctionError",
                      "TumblingWindowInSeconds", "MaximumRecordAgeInSeconds",
                      "StartingPositionTimestamp"}


class StreamPositions:
    """Where each stream mapping is in its stream, in a small JSON file, so that a restarted
    runtime reads on from there, as a mapping on AWS does, instead of from StartingPosition.
    A position is the sequence number the mapping has handled up to (`after`) or, before it
    handled any, the shard iterator it started with. Without a file, positions last as long
    as the runtime."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.kept: dict[str, dict[str, str]] = {}
        if path is not None and path.exists():
            with contextlib.suppress(ValueError):
                self.kept = json.loads(path.read_text())

    def get(self, mapping: str, stream_arn: str) -> dict[str, str] | None:
        """The mapping's position in this stream (None for another stream, or none kept)."""
        kept = self.kept.get(mapping)
        return kept if kept and kept.get("stream") == stream_arn else None

    def put(self, mapping: str, stream_arn: str, **position: str) -> None:
        self.kept[mapping] = {"stream": stream_arn, **position}
        if self.path is not None:  # a whole new file: a kill never leaves half of one
            self.path.parent.mkdir(parents=True, exist_ok=True)
            written = self.path.with_suffix(".tmp")
            written.write_text(json.dumps(self.kept))
            os.replace(written, self.path)


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
    and the mapping moves past them. Its position is kept after each batch (`StreamPositions`):
    a restarted runtime reads on after the last record handled; records of a batch that was
    running when the runtime was killed come again (consumers must be idempotent anyway)."""

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
        self.filter = RecordFilter(props)
        self.buffer: list[dict[str, Any]] = []
        self.read_up_to = ""  # sequence number of the last record read
        self.kept_after = ""  # ... and of the last one handled, as kept in the positions
        self.starting_position = str(props.get("StartingPosition", "LATEST"))
        kept = self.owner.positions.get(self.key, stream_arn)
        if kept and kept.get("after"):
            await self.open(stream_arn, "AFTER_SEQUENCE_NUMBER", kept["after"])
        elif kept and kept.get("iterator"):
            await self.open(stream_arn, self.starting_position)
            self.iterator = kept["iterator"]
        else:
            await self.open(stream_arn, self.starting_position)
            self.owner.positions.put(self.key, stream_arn, iterator=self.iterator)

    @property
    def key(self) -> str:
        return f"{self.fn.name}/{self.ev.name}"

    async def latest_stream(self) -> str:
        """The table's current stream ARN ('' when it has none)."""
        ddb = self.owner.client("dynamodb")
        described = (await self.blocking(lambda: ddb.describe_table(
            TableName=self.table)))["Table"]
        return str(described.get("LatestStreamArn") or "")

    async def open(self, stream_arn: str, position: str, sequence: str = "") -> None:
        """Reads `stream_arn` from `position` (LATEST, TRIM_HORIZON, or AFTER_SEQUENCE_NUMBER
        `sequence`) on."""
        shards = (await self.blocking(lambda: self.streams.describe_stream(
            StreamArn=stream_arn)))["StreamDescription"]["Shards"]
        self.stream_arn = stream_arn
        self.shard_id = str(shards[0]["ShardId"])  # moto keeps one shard per stream
        self.iterator = (await self.blocking(lambda: self.streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=self.shard_id,
            ShardIteratorType=position,
            **({"SequenceNumber": sequence} if sequence else {}))))["ShardIterator"]

    def lambda_record(self, raw: dict[str, Any]) -> dict[str, Any]:
        return {"eventID": raw.get("eventID", ""), "eventName": raw.get("eventName", ""),
                "eventVersion": raw.get("eventVersion", "1.1"), "eventSource": "aws:dynamodb",
                "awsRegion": self.owner.template.region,
                "dynamodb": _jsonable(raw.get("dynamodb") or {}),
                "eventSourceARN": self.stream_arn}

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
        """When the endpoint no longer knows the iterator (ours keeps iterators across its
        restarts; an endpoint without state does not): a new stream is read from its start,
        which holds every change since; the same stream after the last record read. False
        when there is nothing to go on."""
        latest = await self.latest_stream()
        if latest and latest != self.stream_arn:
            await self.open(latest, "TRIM_HORIZON")
            self.read_up_to = ""
            self.owner.log(f"[{self.label}] the table's stream is new (the endpoint "
                           "restarted without its state): reading it from its start")
            return True
        if not latest or not self.read_up_to:
            return False
        await self.open(latest, "AFTER_SEQUENCE_NUMBER", self.read_up_to)
        self.owner.log(f"[{self.label}] the endpoint forgot the shard iterator: reading on "
                       f"after {self.read_up_to}")
        return True

    def take(self, resp: dict[str, Any]) -> None:
        self.iterator = resp.get("NextShardIterator") or self.iterator
        records = [self.lambda_record(r) for r in resp.get("Records", [])]
        if records:
            self.read_up_to = str(records[-1]["dynamodb"].get("SequenceNumber", ""))
        self.buffer += [r for r in records if self.filter.wanted(r)]

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
            # with nothing left in the buffer, every record read has been handled
            self.keep_position(batch[-1]["dynamodb"].get("SequenceNumber", "")
                               if self.buffer else self.read_up_to)

    def keep_position(self, handled: str) -> None:
        if handled and handled != self.kept_after:
            self.owner.positions.put(self.key, self.stream_arn, after=handled)
            self.kept_after = handled

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
