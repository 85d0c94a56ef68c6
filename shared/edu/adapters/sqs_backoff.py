"""Retry timing for SQS consumers: a failed message comes back after a delay that doubles
with each receive (not the queue's fixed visibility timeout), so a struggling dependency
gets room and a poison message reaches the DLQ after maxReceiveCount either way."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import cache
from typing import Any

from edu.adapters.registry import get_adapters
from edu.retries import GaveUp, RetryLater

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


def back_off_failures(event: dict[str, Any], response: dict[str, Any], base_s: int,
                      delays: dict[str, int] | None = None) -> None:
    """After a partial batch response: delays each failed record by the delay its handler
    asked for (`delays`, by message id), else by its attempt number."""
    asked = delays or {}
    failed = {f.get("itemIdentifier") for f in response.get("batchItemFailures") or []}
    for record in event.get("Records") or []:
        message_id = record.get("messageId")
        if message_id in failed:
            attempt = int((record.get("attributes") or {}).get("ApproximateReceiveCount", 1))
            delay = asked.get(message_id, backoff_delay(attempt, base_s))
            retry_after(record["eventSourceARN"], record["receiptHandle"], delay)


def sqs_batch_processor() -> Any:
    """Powertools' SQS batch processor for our consumers. A batch whose records all failed
    is answered as a partial failure too (not raised), so the failed records still get
    their backoff delay instead of coming back after the queue's visibility timeout."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

    return BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def consume(event: dict[str, Any], context: Any, processor: Any,
            record_handler: Callable[..., Any]) -> dict[str, Any]:
    """An SQS consumer's handler body: each record through `record_handler` (which may take
    `lambda_context` too); the failed ones are reported back and made visible again after
    the delay their handler raised (`RetryLater(delay_s)`, `GaveUp`: at once) or the
    doubling backoff (`ConsumerRetryBase`)."""
    from aws_lambda_powertools.utilities.batch import process_partial_response

    delays: dict[str, int] = {}
    wants_context = "lambda_context" in inspect.signature(record_handler).parameters

    def steered(record: Any, lambda_context: Any = None) -> Any:
        try:
            if wants_context:
                return record_handler(record, lambda_context=lambda_context)
            return record_handler(record)
        except RetryLater as exc:
            if exc.delay_s is not None:
                delays[record.message_id] = exc.delay_s
            raise
        except GaveUp:
            delays[record.message_id] = 0
            raise

    response = dict(process_partial_response(event=event, record_handler=steered,
                                             processor=processor, context=context))
    back_off_failures(event, response, get_adapters().settings.consumer_retry_base_s, delays)
    return response
