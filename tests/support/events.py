"""Watching the event bus in tests (a rule delivering to a fresh SQS queue), and the mail
the platform sent."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from localcloud.aws import sent_emails
from localcloud.stack import LocalCloud
from tests.support.aws import aws_client

BUS = "edu-platform-events"


class Watch:
    def __init__(self, cloud: LocalCloud, url: str) -> None:
        self.sqs = aws_client(cloud, "sqs")
        self.url = url
        self.seen: list[dict[str, Any]] = []

    def collect(self, seconds: float = 3.0, until: int | None = None) -> list[dict[str, Any]]:
        """Envelopes received within `seconds` (or as soon as `until` have arrived)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and (until is None or len(self.seen) < until):
            for msg in self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10,
                                                WaitTimeSeconds=1).get("Messages", []):
                self.seen.append(json.loads(msg["Body"])["detail"])
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=msg["ReceiptHandle"])
        return self.seen

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [e for e in self.seen if e["type"] == event_type]


@contextmanager
def watch_events(cloud: LocalCloud, pattern: dict[str, Any]) -> Iterator[Watch]:
    sqs, events = aws_client(cloud, "sqs"), aws_client(cloud, "events")
    name = f"watch-{uuid.uuid4().hex[:10]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"]
    events.put_rule(Name=name, EventBusName=BUS, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=name, EventBusName=BUS, Targets=[{"Id": "q", "Arn": arn}])
    try:
        yield Watch(cloud, url)
    finally:
        events.remove_targets(Rule=name, EventBusName=BUS, Ids=["q"])
        events.delete_rule(Name=name, EventBusName=BUS)
        sqs.delete_queue(QueueUrl=url)


def mail_to(cloud: LocalCloud, address: str, count: int = 1, timeout: float = 20,
            subject: str | None = None) -> list[dict[str, Any]]:
    """Emails sent to address (with that subject, if given), waiting up to timeout for
    `count` of them."""
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in sent_emails(cloud.aws_url) if address in m["to"]
                 and (subject is None or m["subject"] == subject)]
        if len(found) >= count or time.monotonic() >= deadline:
            return found
        time.sleep(0.3)
