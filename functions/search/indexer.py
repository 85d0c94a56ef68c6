"""Search indexer: course.published / course.updated events (via SQS) keep the Meilisearch
index in line with PostgreSQL. Each record re-reads the course, so duplicates and events
out of order converge on the current state; a failed record alone is retried (with a
doubling delay), then parked in the DLQ. Without MEILI_URL there is no index and records
are acknowledged."""

import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from edu.adapters.sqs_backoff import consume, sqs_batch_processor
from edu.observability import get_logger
from edu.services import course_service

processor = sqs_batch_processor()


def record_handler(record: SQSRecord) -> str:
    envelope = json.loads(record.body)["detail"]  # EventBridge event -> our envelope
    course_id = str((envelope.get("data") or {}).get("course_id", ""))
    outcome = course_service().index_course(course_id)
    get_logger().info("search index", extra={"event_id": envelope.get("id"),
                                              "event_type": envelope.get("type"),
                                              "course_id": course_id, "outcome": outcome})
    return outcome


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return consume(event, context, processor, record_handler)
