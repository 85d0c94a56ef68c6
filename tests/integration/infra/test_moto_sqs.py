"""The local moto server's SQS shortcuts (one pass for queue counts, attributes built once per
GetQueueAttributes, direct retention check) answer exactly what SQS does."""

import json
import time
import uuid
from typing import Any

from localcloud.stack import LocalCloud
from tests.support.aws import aws_client

COUNTS = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
          "ApproximateNumberOfMessagesDelayed"]


def counts(sqs: Any, url: str) -> dict[str, str]:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=COUNTS)["Attributes"]


def test_queue_counts_follow_each_message_state(cloud: LocalCloud) -> None:
    sqs = aws_client(cloud, "sqs")
    url = sqs.create_queue(QueueName=f"counts-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    for i in range(6):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
    for i in range(2):
        sqs.send_message(QueueUrl=url, MessageBody=f"late{i}", DelaySeconds=60)
    assert counts(sqs, url) == {"ApproximateNumberOfMessages": "6",
                                "ApproximateNumberOfMessagesNotVisible": "0",
                                "ApproximateNumberOfMessagesDelayed": "2"}

    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=4, VisibilityTimeout=60)
    assert len(got["Messages"]) == 4
    assert {m["Body"] for m in got["Messages"]} <= {f"m{i}" for i in range(6)}
    assert counts(sqs, url) == {"ApproximateNumberOfMessages": "2",
                                "ApproximateNumberOfMessagesNotVisible": "4",
                                "ApproximateNumberOfMessagesDelayed": "2"}

    sqs.delete_message(QueueUrl=url, ReceiptHandle=got["Messages"][0]["ReceiptHandle"])
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=got["Messages"][1]["ReceiptHandle"],
                                  VisibilityTimeout=0)
    assert counts(sqs, url) == {"ApproximateNumberOfMessages": "3",
                                "ApproximateNumberOfMessagesNotVisible": "2",
                                "ApproximateNumberOfMessagesDelayed": "2"}
    everything = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert everything["ApproximateNumberOfMessages"] == "3"
    assert everything["QueueArn"].endswith(url.rsplit("/", 1)[-1])
    assert "FifoQueue" not in everything


def test_fifo_deduplication_and_retention_still_apply(cloud: LocalCloud) -> None:
    sqs = aws_client(cloud, "sqs")
    url = sqs.create_queue(
        QueueName=f"dedup-{uuid.uuid4().hex[:8]}.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true",
                    "MessageRetentionPeriod": "60"})["QueueUrl"]
    for _ in range(3):  # same body: content-based deduplication keeps one
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": 1}), MessageGroupId="g")
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ContentBasedDeduplication", "MessageRetentionPeriod", "ApproximateNumberOfMessages"]
    )["Attributes"]
    assert attrs == {"ContentBasedDeduplication": "true", "MessageRetentionPeriod": "60",
                     "ApproximateNumberOfMessages": "1"}
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in got] == ['{"n": 1}']  # within its retention period


def test_many_workers_keep_their_connections_alive(cloud: LocalCloud) -> None:
    """Every function worker holds its own connection to the local AWS endpoint; beyond
    cheroot's default of 10 idle connections it used to close each after one response."""
    import http.client
    from urllib.parse import urlsplit

    where = urlsplit(cloud.aws_url)
    body = "{}"
    headers = {"X-Amz-Target": "DynamoDB_20120810.ListTables",
               "Content-Type": "application/x-amz-json-1.0",
               "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/"
                                "dynamodb/aws4_request, SignedHeaders=host, Signature=x"}
    connections = [http.client.HTTPConnection(where.hostname or "", where.port, timeout=10)
                   for _ in range(40)]
    try:
        for _ in range(3):
            for conn in connections:
                conn.request("POST", "/", body=body, headers=headers)
                resp = conn.getresponse()
                assert resp.status == 200, resp.read()
                assert resp.getheader("Connection", "").lower() != "close"
                resp.read()
                conn.auto_open = 0  # a closed connection now fails instead of reopening
    finally:
        for conn in connections:
            conn.close()


def test_receives_and_batch_deletes_behave_as_sqs_over_a_backlog(cloud: LocalCloud) -> None:
    sqs = aws_client(cloud, "sqs")
    url = sqs.create_queue(QueueName=f"backlog-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    for start in range(0, 300, 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "MessageBody": f"m{start + i}"} for i in range(10)])
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                VisibilityTimeout=60)["Messages"]
    # In flight messages are skipped: the next receive hands out ten others.
    second = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                 VisibilityTimeout=60)["Messages"]
    assert len(first) == len(second) == 10
    assert not {m["MessageId"] for m in first} & {m["MessageId"] for m in second}

    entries = [{"Id": f"ok{i}", "ReceiptHandle": m["ReceiptHandle"]}
               for i, m in enumerate(first)]
    entries.append({"Id": "bad", "ReceiptHandle": "not-a-receipt"})
    answer = sqs.delete_message_batch(QueueUrl=url, Entries=entries)
    assert sorted(e["Id"] for e in answer["Successful"]) == sorted(f"ok{i}" for i in range(10))
    assert [(e["Id"], e["Code"]) for e in answer["Failed"]] == [
        ("bad", "ReceiptHandleIsInvalid")]
    again = sqs.delete_message_batch(QueueUrl=url, Entries=entries[:2])  # deleting twice: fine
    assert len(again["Successful"]) == 2
    assert counts(sqs, url) == {"ApproximateNumberOfMessages": "280",
                                "ApproximateNumberOfMessagesNotVisible": "10",
                                "ApproximateNumberOfMessagesDelayed": "1"}

    empty = sqs.create_queue(QueueName=f"empty-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    sqs.send_message(QueueUrl=empty, MessageBody="hidden", DelaySeconds=60)
    # A long poll on a queue with only a delayed message waits, then answers empty.
    began = time.monotonic()
    assert "Messages" not in sqs.receive_message(QueueUrl=empty, WaitTimeSeconds=1)
    assert time.monotonic() - began >= 0.9


def test_a_receive_filters_attributes_of_its_answer_only(cloud: LocalCloud) -> None:
    sqs = aws_client(cloud, "sqs")
    url = sqs.create_queue(QueueName=f"attrs-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="m", MessageAttributes={
        "Custom.kind": {"DataType": "String", "StringValue": "a"},
        "other": {"DataType": "Number", "StringValue": "7"}})
    first = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["Custom.*"],
                                VisibilityTimeout=0, AttributeNames=["All"])["Messages"][0]
    assert set(first["MessageAttributes"]) == {"Custom.kind"}
    assert first["Attributes"]["ApproximateReceiveCount"] == "1"
    second = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"],
                                 AttributeNames=["All"])["Messages"][0]
    assert set(second["MessageAttributes"]) == {"Custom.kind", "other"}
    assert second["Attributes"]["ApproximateReceiveCount"] == "2"
    assert second["ReceiptHandle"] != first["ReceiptHandle"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=second["ReceiptHandle"])
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
