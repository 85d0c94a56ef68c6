"""Webhook delivery: one signed POST per message. A failed attempt leaves the message
invisible for the backoff delay (minutes, then hours) and reports it failed, so SQS brings
it back; the last attempt, a success or a refused target consume it. Only a crash (a poison
message) reaches the DLQ."""

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from edu.adapters.sqs_backoff import retry_after, sqs_batch_processor
from edu.observability import get_logger
from edu.services import webhook_service

processor = sqs_batch_processor()


class RetryLater(Exception):
    """A failed attempt to report to SQS; its delay is in `delays`."""


delays: dict[str, int] = {}  # message id -> seconds until its next attempt (this batch)


def record_handler(record: SQSRecord) -> str:
    delivery_id = str(json.loads(record.body)["delivery_id"])
    outcome = webhook_service().deliver(delivery_id)
    get_logger().info("webhook delivery", extra={"delivery_id": delivery_id,
                                                 "result": outcome.result,
                                                 "detail": outcome.detail})
    if outcome.result == "retry":
        delays[record.message_id] = outcome.retry_in_s or 0
        raise RetryLater(outcome.detail)
    return outcome.result


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    delays.clear()
    response = process_partial_response(event=event, record_handler=record_handler,
                                        processor=processor, context=context)
    failed = {f["itemIdentifier"] for f in response.get("batchItemFailures") or []}
    for record in event.get("Records") or []:
        if record["messageId"] in failed and record["messageId"] in delays:
            retry_after(record["eventSourceARN"], record["receiptHandle"],
                        delays[record["messageId"]])
    return response
