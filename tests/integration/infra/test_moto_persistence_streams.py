"""DynamoDB streams and SES's sent mail on a local AWS endpoint with a state directory: a
stream keeps its ARN and records across a restart and a SIGKILL, an iterator handed out
before the restart reads on where it was, a cancelled transaction leaves no records, and the
mail sent is still there."""

from __future__ import annotations

import signal
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud.aws import sent_emails
from tests.support.kept_endpoint import Endpoint


def create_streamed_table(ddb: Any) -> str:
    ddb.create_table(
        TableName="courses", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    return str(ddb.describe_table(TableName="courses")["Table"]["LatestStreamArn"])


def read(streams: Any, iterator: str) -> tuple[list[dict[str, Any]], str]:
    got = streams.get_records(ShardIterator=iterator, Limit=1000)
    return got["Records"], got["NextShardIterator"]


def ids(records: list[dict[str, Any]]) -> list[str]:
    return [r["dynamodb"]["Keys"]["id"]["S"] for r in records]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["graceful", "kill-9"])
def test_a_stream_and_its_readers_go_on_across_a_restart(endpoint: Endpoint, sig: int) -> None:
    ddb, streams = endpoint.client("dynamodb"), endpoint.client("dynamodbstreams")
    arn = create_streamed_table(ddb)
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    start = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                       ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    for n in range(3):
        ddb.put_item(TableName="courses", Item={"id": {"S": f"c{n}"}})
    first, iterator = read(streams, start)
    assert ids(first) == ["c0", "c1", "c2"]
    ddb.put_item(TableName="courses", Item={"id": {"S": "c3"}})
    ddb.delete_item(TableName="courses", Key={"id": {"S": "c0"}})

    endpoint.restart(sig)
    ddb, streams = endpoint.client("dynamodb"), endpoint.client("dynamodbstreams")
    assert ddb.describe_table(TableName="courses")["Table"]["LatestStreamArn"] == arn
    ddb.put_item(TableName="courses", Item={"id": {"S": "c4"}})
    rest, _ = read(streams, iterator)  # the iterator from before the restart
    assert ids(rest) == ["c3", "c0", "c4"]
    assert [r["eventName"] for r in rest] == ["INSERT", "REMOVE", "INSERT"]
    assert rest[1]["dynamodb"]["OldImage"] == {"id": {"S": "c0"}}
    sequences = [int(r["dynamodb"]["SequenceNumber"]) for r in first + rest]
    assert sequences == sorted(sequences) and len(set(sequences)) == 6
    replay, _ = read(streams, streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="AFTER_SEQUENCE_NUMBER",
        SequenceNumber=first[-1]["dynamodb"]["SequenceNumber"])["ShardIterator"])
    assert ids(replay) == ["c3", "c0", "c4"]


def test_a_cancelled_transaction_leaves_no_records(endpoint: Endpoint) -> None:
    ddb, streams = endpoint.client("dynamodb"), endpoint.client("dynamodbstreams")
    arn = create_streamed_table(ddb)
    ddb.put_item(TableName="courses", Item={"id": {"S": "taken"}})
    with pytest.raises(ClientError):
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": "courses", "Item": {"id": {"S": "new"}}}},
            {"Put": {"TableName": "courses", "Item": {"id": {"S": "taken"}},
                     "ConditionExpression": "attribute_not_exists(id)"}}])
    ddb.put_item(TableName="courses", Item={"id": {"S": "after"}})

    endpoint.restart(signal.SIGKILL)
    streams = endpoint.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    records, _ = read(streams, streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"])
    assert ids(records) == ["taken", "after"]


def test_a_deleted_table_takes_its_stream_along(endpoint: Endpoint) -> None:
    ddb = endpoint.client("dynamodb")
    old_arn = create_streamed_table(ddb)
    ddb.put_item(TableName="courses", Item={"id": {"S": "old"}})
    ddb.delete_table(TableName="courses")
    new_arn = create_streamed_table(ddb)

    endpoint.restart(signal.SIGKILL)
    ddb, streams = endpoint.client("dynamodb"), endpoint.client("dynamodbstreams")
    assert ddb.describe_table(TableName="courses")["Table"]["LatestStreamArn"] == new_arn
    assert new_arn != old_arn
    shard = streams.describe_stream(StreamArn=new_arn)["StreamDescription"]["Shards"][0]
    records, _ = read(streams, streams.get_shard_iterator(
        StreamArn=new_arn, ShardId=shard["ShardId"],
        ShardIteratorType="TRIM_HORIZON")["ShardIterator"])
    assert records == []


def test_sent_mail_survives_a_restart(endpoint: Endpoint) -> None:
    ses = endpoint.client("ses")
    ses.verify_email_identity(EmailAddress="noreply@edu.example")
    for n in range(2):
        ses.send_email(Source="noreply@edu.example",
                       Destination={"ToAddresses": [f"student{n}@example.com"]},
                       Message={"Subject": {"Data": f"Welcome {n}"},
                                "Body": {"Html": {"Data": f"<p>hello {n}</p>"}}})

    endpoint.restart(signal.SIGKILL)
    ses = endpoint.client("ses")
    sent = sent_emails(endpoint.url)
    assert [(m["subject"], m["to"]) for m in sent] == [
        ("Welcome 0", ["student0@example.com"]), ("Welcome 1", ["student1@example.com"])]
    ses.send_email(Source="noreply@edu.example",
                   Destination={"ToAddresses": ["student2@example.com"]},
                   Message={"Subject": {"Data": "Welcome 2"}, "Body": {"Text": {"Data": "hi"}}})
    assert [m["subject"] for m in sent_emails(endpoint.url)][-1] == "Welcome 2"
