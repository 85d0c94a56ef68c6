"""Event tooling for the local stack: watch the bus, and move DLQ messages back."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from localcloud.aws import local_client
from localcloud.template import Template


def dlq_of(template: Template, endpoint: str, queue: str) -> tuple[str, str]:
    """(source queue URL, DLQ URL) for a queue given by logical id or name."""
    sqs = local_client("sqs", endpoint, template.region)
    resource = template.resources.get(queue)
    name = resource.physical_name if resource else queue
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])
    policy = attrs.get("Attributes", {}).get("RedrivePolicy")
    if not policy:
        raise ValueError(f"queue {name} has no dead-letter queue")
    dlq_name = json.loads(policy)["deadLetterTargetArn"].rsplit(":", 1)[-1]
    return url, sqs.get_queue_url(QueueName=dlq_name)["QueueUrl"]


def redrive(template: Template, endpoint: str, queue: str, limit: int | None = None) -> int:
    """Moves messages from the queue's DLQ back to it (after a fix); returns how many."""
    sqs = local_client("sqs", endpoint, template.region)
    source, dlq = dlq_of(template, endpoint, queue)
    moved = 0
    while limit is None or moved < limit:
        batch = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                    MessageAttributeNames=["All"]).get("Messages", [])
        if not batch:
            break
        for msg in batch:
            attrs = msg.get("MessageAttributes") or {}
            sqs.send_message(QueueUrl=source, MessageBody=msg["Body"],
                             **({"MessageAttributes": attrs} if attrs else {}))
            sqs.delete_message(QueueUrl=dlq, ReceiptHandle=msg["ReceiptHandle"])
            moved += 1
    return moved


@contextmanager
def tap(template: Template, endpoint: str, bus: str) -> Iterator[Callable[[float], list[
        dict[str, Any]]]]:
    """A temporary rule + queue that receive every event on the bus; yields a reader."""
    sqs = local_client("sqs", endpoint, template.region)
    events = local_client("events", endpoint, template.region)
    name = f"edu-tail-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"]
    events.put_rule(Name=name, EventBusName=bus,
                    EventPattern=json.dumps({"source": [{"prefix": ""}]}))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "tail", "Arn": arn}])

    def read(wait_s: float) -> list[dict[str, Any]]:
        out = []
        for msg in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                       WaitTimeSeconds=int(wait_s)).get("Messages", []):
            out.append(json.loads(msg["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
        return out

    try:
        yield read
    finally:
        events.remove_targets(Rule=name, EventBusName=bus, Ids=["tail"])
        events.delete_rule(Name=name, EventBusName=bus)
        sqs.delete_queue(QueueUrl=url)
