"""Analytics projector: enrollment, payment and progress events (via SQS) update the
teachers' read models. Each event applies once (its id is recorded in the same transaction),
so redeliveries and replays are harmless; failed records alone are retried, then parked in
the DLQ."""

import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from edu.adapters.sqs_backoff import consume, sqs_batch_processor
from edu.observability import get_logger
from edu.services import analytics_service

processor = sqs_batch_processor()


def record_handler(record: SQSRecord) -> str:
    envelope = json.loads(record.body)["detail"]  # EventBridge event -> our envelope
    outcome = analytics_service().project(envelope)
    get_logger().info("analytics", extra={"event_id": envelope.get("id"),
                                          "event_type": envelope.get("type"),
                                          "outcome": outcome})
    return outcome


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return consume(event, context, processor, record_handler)
