"""The one SQS consumer shape against a real queue (moto server): what a record handler
raises decides when SQS brings the record back."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from edu.adapters.registry import get_adapters
from edu.adapters.sqs_backoff import consume, sqs_batch_processor
from edu.config import get_settings
from edu.retries import GaveUp, RetryLater
from localcloud.runtime.sqs_mapping import sqs_record
from localcloud.stack import LocalCloud
from tests.support.aws import aws_client


@dataclass
class Context:
    """What Powertools hands a record handler that takes `lambda_context`."""

    function_name: str = "TestConsumer"


@pytest.fixture
def queue(cloud: LocalCloud, aws_env: dict[str, str],
          monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str, str]]:
    monkeypatch.setenv("EDU_CONSUMER_RETRY_BASE_S", "600")
    get_settings.cache_clear()
    get_adapters.cache_clear()
    sqs = aws_client(cloud, "sqs")
    url = sqs.create_queue(QueueName=f"consumer-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"]
    yield sqs, url, arn
    sqs.delete_queue(QueueUrl=url)
    get_adapters().close()
    get_adapters.cache_clear()
    get_settings.cache_clear()


def received(sqs: Any, url: str, count: int, seconds: float) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    while len(out) < count and time.monotonic() < deadline:
        out += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                   AttributeNames=["All"]).get("Messages", [])
        time.sleep(0.1)
    return out


def test_retry_later_gave_up_and_a_crash_bring_the_record_back_when_each_says(
        queue: tuple[Any, str, str]) -> None:
    sqs, url, arn = queue
    for body in ("done", "later", "gave-up", "crash"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    messages = received(sqs, url, 4, seconds=5)
    event = {"Records": [sqs_record(m, arn, "us-east-1") for m in messages]}

    def record_handler(record: SQSRecord, lambda_context: Context) -> str:
        if record.body == "later":
            raise RetryLater("the target is busy", delay_s=2)
        if record.body == "gave-up":
            raise GaveUp("the last attempt failed")
        if record.body == "crash":
            raise ValueError("a bug")
        return lambda_context.function_name

    started = time.monotonic()
    response = consume(event, Context(), sqs_batch_processor(), record_handler)
    bodies = {m["MessageId"]: m["Body"] for m in messages}
    assert {bodies[f["itemIdentifier"]] for f in response["batchItemFailures"]} == {
        "later", "gave-up", "crash"}
    (done,) = [m for m in messages if m["Body"] == "done"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=done["ReceiptHandle"])  # as a trigger does

    # GaveUp comes back at once (on to the DLQ), RetryLater after its 2 s, the crash after
    # the doubling backoff (600 s at the first receive).
    assert [m["Body"] for m in received(sqs, url, 1, seconds=1)] == ["gave-up"]
    assert received(sqs, url, 1, seconds=max(0.0, 1.5 - (time.monotonic() - started))) == []
    assert [m["Body"] for m in received(sqs, url, 1, seconds=3)] == ["later"]
    assert received(sqs, url, 1, seconds=1) == []
