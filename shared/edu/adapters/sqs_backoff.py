"""Retry timing for SQS consumers: a failed message comes back after a delay that doubles
with each receive (not the queue's fixed visibility timeout), so a struggling dependency
gets room and a poison message reaches the DLQ after maxReceiveCount either way."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from edu.adapters.registry import get_adapters

MAX_DELAY_S = 12 * 3600  # SQS's limit for a visibility timeout


@cache
def _queue_url(arn: str) -> str:
    _, _, _, _region, account, name = arn.split(":", 5)
    sqs = get_adapters().aws_client("sqs")
    return str(sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"])


def retry_after(queue_arn: str, receipt_handle: str, delay_s: int) -> None:
    get_adapters().aws_client("sqs").change_message_visibility(
        QueueUrl=_queue_url(queue_arn), ReceiptHandle=receipt_handle,
        VisibilityTimeout=max(0, min(MAX_DELAY_S, delay_s)))


def backoff_delay(attempt: int, base_s: int) -> int:
    return min(MAX_DELAY_S, base_s * 2 ** max(0, attempt - 1))


def retry_span_s(receives: int, base_s: int) -> int:
    """How long a message that fails every receive stays out of the DLQ: the delays between
    its `receives` (the queue's maxReceiveCount) receives. A dependency outage shorter than
    this costs no message."""
    return sum(backoff_delay(attempt, base_s) for attempt in range(1, receives))


def base_outlasting(outage_s: float, receives: int) -> int:
    """The smallest whole-second backoff base whose retry span is at least `outage_s`."""
    base = 1
    while retry_span_s(receives, base) < outage_s:
        base += 1
    return base


def back_off_failures(event: dict[str, Any], response: dict[str, Any], base_s: int) -> None:
    """After a partial batch response: delays each failed record by its attempt number."""
    failed = {f.get("itemIdentifier") for f in response.get("batchItemFailures") or []}
    for record in event.get("Records") or []:
        if record.get("messageId") in failed:
            attempt = int((record.get("attributes") or {}).get("ApproximateReceiveCount", 1))
            retry_after(record["eventSourceARN"], record["receiptHandle"],
                        backoff_delay(attempt, base_s))


def sqs_batch_processor() -> Any:
    """Powertools' SQS batch processor for our consumers. A batch whose records all failed
    is answered as a partial failure too (not raised), so the failed records still get
    their backoff delay instead of coming back after the queue's visibility timeout."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

    return BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def consume(event: dict[str, Any], context: Any, processor: Any,
            record_handler: Callable[[Any], Any]) -> dict[str, Any]:
    """An SQS consumer's handler body: each record through `record_handler`, the failed
    ones reported back and delayed by the doubling backoff (`ConsumerRetryBase`)."""
    from aws_lambda_powertools.utilities.batch import process_partial_response

    response = dict(process_partial_response(event=event, record_handler=record_handler,
                                             processor=processor, context=context))
    back_off_failures(event, response, get_adapters().settings.consumer_retry_base_s)
    return response
