"""`edu events redrive` and `edu events tail` against the session's moto."""

import json
import uuid

from localcloud.events import redrive, tap
from localcloud.stack import LocalCloud
from tests.support.aws import aws_client as client


def test_redrive_moves_dlq_messages_back(cloud: LocalCloud) -> None:
    sqs = client(cloud, "sqs")
    name = f"redrive-{uuid.uuid4().hex[:8]}"
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    source = sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})})["QueueUrl"]
    for i in range(3):
        sqs.send_message(QueueUrl=dlq, MessageBody=f"poison {i}")
    assert redrive(cloud.template(), cloud.aws_url, name) == 3
    bodies = []
    for _ in range(3):
        for msg in sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10,
                                       WaitTimeSeconds=1).get("Messages", []):
            bodies.append(msg["Body"])
            sqs.delete_message(QueueUrl=source, ReceiptHandle=msg["ReceiptHandle"])
    assert sorted(bodies) == ["poison 0", "poison 1", "poison 2"]
    assert sqs.receive_message(QueueUrl=dlq).get("Messages") is None


def test_tail_sees_events_on_the_bus(cloud: LocalCloud) -> None:
    events = client(cloud, "events")
    marker = uuid.uuid4().hex
    with tap(cloud.template(), cloud.aws_url, "edu-platform-events") as read:
        events.put_events(Entries=[{"Source": "edu.test", "DetailType": "tail.probe",
                                    "Detail": json.dumps({"marker": marker}),
                                    "EventBusName": "edu-platform-events"}])
        seen = []
        for _ in range(5):
            seen += read(1)
            if any(e["detail"].get("marker") == marker for e in seen):
                break
    assert any(e["detail-type"] == "tail.probe" for e in seen)
