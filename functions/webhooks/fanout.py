"""Webhook fan-out: each subscribable event (via SQS) becomes one delivery per subscribed
webhook, created once (a redelivered event finds them already there)."""

import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from edu.adapters.sqs_backoff import consume, sqs_batch_processor
from edu.services import webhook_service

processor = sqs_batch_processor()


def record_handler(record: SQSRecord) -> int:
    return webhook_service().fan_out(json.loads(record.body)["detail"])


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return consume(event, context, processor, record_handler)
