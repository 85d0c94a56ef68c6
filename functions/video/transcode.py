"""Transcode consumer: S3 ObjectCreated notifications of the raw bucket (via SQS) become
HLS renditions in the media bucket.

A file that is not a playable video is failed at once, with its reason for the teacher. A
transcode that broke is reported back to SQS alone (partial batch response) and made visible
again after a backoff; the last attempt marks the video failed and the message goes to the
DLQ.
"""

import json
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from edu.adapters.sqs_backoff import consume, sqs_batch_processor
from edu.observability import count, get_logger
from edu.retries import GaveUp, RetryLater
from edu.services import video_service

processor = sqs_batch_processor()


def record_handler(record: SQSRecord, lambda_context: Any) -> list[str]:
    body = json.loads(record.body)
    if body.get("Event") == "s3:TestEvent":  # sent once when the notification is set up
        return ["ignored: s3:TestEvent"]
    attempt = int(record.attributes.approximate_receive_count or 1)
    outcomes = []
    for s3_record in body.get("Records", []):
        if not str(s3_record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        key = unquote_plus(s3_record["s3"]["object"]["key"])
        try:
            outcome = video_service().handle_upload(
                key, attempt, lambda_context.get_remaining_time_in_millis() / 1000)
        except (RetryLater, GaveUp) as exc:
            get_logger().warning("transcode attempt failed", extra={
                "key": key, "attempt": attempt, "error": str(exc),
                "retry_in_s": exc.delay_s if isinstance(exc, RetryLater) else 0})
            if isinstance(exc, GaveUp):
                count("transcode_jobs_failed")
            raise
        get_logger().info("transcode", extra={"key": key, "attempt": attempt,
                                              "outcome": outcome})
        if outcome.startswith("ready"):
            count("transcode_jobs_ready")
        elif outcome.startswith("failed"):
            count("transcode_jobs_failed")
        outcomes.append(outcome)
    return outcomes


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return consume(event, context, processor, record_handler)
