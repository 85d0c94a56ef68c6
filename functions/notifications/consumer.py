"""Notifications consumer: domain events from the bus (via SQS) become emails.

Powertools batch processing reports only failed records back to SQS (they are retried with
a doubling delay, then moved to the DLQ); the idempotency utility, keyed on the event id,
makes a redelivered event send nothing twice (its records live where configured:
edu.adapters.idempotency).
"""

import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

from edu.adapters.idempotency import persistence_layer
from edu.adapters.registry import get_adapters
from edu.adapters.sqs_backoff import consume, sqs_batch_processor
from edu.observability import get_logger
from edu.services import notification_service

processor = sqs_batch_processor()
persistence = persistence_layer(get_adapters())
idempotency = IdempotencyConfig(event_key_jmespath="id", expires_after_seconds=7 * 24 * 3600)


@idempotent_function(data_keyword_argument="envelope", persistence_store=persistence,
                     config=idempotency, key_prefix="notifications")
def send_once(envelope: dict[str, Any]) -> str:
    return notification_service().handle(envelope)


def record_handler(record: SQSRecord) -> str:
    envelope = json.loads(record.body)["detail"]  # EventBridge event -> our envelope
    outcome = send_once(envelope=envelope)
    get_logger().info("notification", extra={"event_id": envelope.get("id"),
                                              "event_type": envelope.get("type"),
                                              "outcome": outcome})
    return outcome


def envelopes(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The batch's envelopes that parse (a malformed one fails alone, in its record)."""
    out = []
    for record in event.get("Records") or []:
        try:
            detail = json.loads(record["body"])["detail"]
        except (KeyError, TypeError, ValueError):
            continue
        if isinstance(detail, dict):
            out.append(detail)
    return out


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    idempotency.register_lambda_context(context)
    with notification_service().batch(envelopes(event)):
        return consume(event, context, processor, record_handler)
