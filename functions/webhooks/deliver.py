"""Webhook delivery: one signed POST per message. A failed attempt leaves the message
invisible for the backoff delay (minutes, then hours) and reports it failed, so SQS brings
it back; the last attempt, a success or a refused target consume it. Only a crash (a poison
message) reaches the DLQ."""

import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from edu.adapters.sqs_backoff import consume, sqs_batch_processor
from edu.observability import get_logger
from edu.retries import RetryLater
from edu.services import webhook_service

processor = sqs_batch_processor()


def record_handler(record: SQSRecord) -> str:
    delivery_id = str(json.loads(record.body)["delivery_id"])
    outcome = webhook_service().deliver(delivery_id)
    get_logger().info("webhook delivery", extra={"delivery_id": delivery_id,
                                                 "result": outcome.result,
                                                 "detail": outcome.detail})
    if outcome.result == "retry":
        raise RetryLater(outcome.detail, outcome.retry_in_s or 0)
    return outcome.result


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return consume(event, context, processor, record_handler)
