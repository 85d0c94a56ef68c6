"""The DynamoDB outbox's stream relay with real stream records from the moto server: what a
batch publishes, in which order, what it deletes, and where it says to retry from."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from pynamodb.transactions import TransactWrite

from edu.adapters.dynamo_base import connection
from edu.adapters.dynamo_outbox import DynamoOutbox, outbox_items, outbox_model
from edu.adapters.eventbridge import EventBridgePublisher
from edu.events import Envelope, make_event
from localcloud.stack import LocalCloud
from tests.support.aws import aws_client as client
from tests.support.aws import keyed_table
from tests.support.events import BUS, Watch, watch_events

pytestmark = pytest.mark.usefixtures("aws_env")  # pynamodb reads credentials from the env


@pytest.fixture
def streamed_table(cloud: LocalCloud) -> Iterator[str]:
    with keyed_table(cloud, stream_view="NEW_IMAGE") as name:
        yield name


@pytest.fixture
def tapped(cloud: LocalCloud) -> Iterator[Watch]:
    """Every event of this test's source that reaches the bus."""
    with watch_events(cloud, {"source": ["edu.outbox-test"]}) as watch:
        yield watch


def events(count: int) -> list[Envelope]:
    return [make_event("lesson.completed", {"user_id": f"u{n}", "course_id": "c",
                                            "lesson_id": f"l{n}", "teacher_id": "t"},
                       source="edu.outbox-test") for n in range(count)]


def commit(cloud: LocalCloud, table: str, envelopes: list[Envelope]) -> None:
    model = outbox_model(table, cloud.aws_url, "us-east-1")
    with TransactWrite(connection=connection(cloud.aws_url, "us-east-1")) as tx:
        for item in outbox_items(model, envelopes):
            tx.save(item)


def stream_records(cloud: LocalCloud, table: str) -> list[dict[str, Any]]:
    ddb, streams = client(cloud, "dynamodb"), client(cloud, "dynamodbstreams")
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    return list(streams.get_records(ShardIterator=iterator)["Records"])


def relay(cloud: LocalCloud, table: str, bus: str = BUS,
          warnings: list[str] | None = None) -> DynamoOutbox:
    sink = warnings if warnings is not None else []
    return DynamoOutbox(table, cloud.aws_url, "us-east-1",
                        EventBridgePublisher(client(cloud, "events"), bus),
                        warn=lambda message, _extra: sink.append(message))


def received(watch: Watch, count: int, timeout: float = 10) -> list[str]:
    """Ids of the events seen so far, waiting up to `timeout` for `count` of them."""
    return [e["id"] for e in watch.collect(timeout, until=count)]


def items_left(cloud: LocalCloud, table: str) -> int:
    return int(client(cloud, "dynamodb").scan(TableName=table, Select="COUNT")["Count"])


def test_a_batch_is_published_and_its_items_deleted(cloud: LocalCloud, streamed_table: str,
                                                    tapped: Watch) -> None:
    sent = events(12)  # more than one PutEvents call takes
    commit(cloud, streamed_table, sent[:7])
    commit(cloud, streamed_table, sent[7:])
    records = stream_records(cloud, streamed_table)
    assert [r["eventName"] for r in records] == ["INSERT"] * 12
    assert relay(cloud, streamed_table).relay_records(records) is None
    assert sorted(received(tapped, 12)) == sorted(e.id for e in sent)
    assert items_left(cloud, streamed_table) == 0
    # The deletes are stream records too; they publish nothing.
    removes = stream_records(cloud, streamed_table)[12:]
    assert [r["eventName"] for r in removes] == ["REMOVE"] * 12
    assert relay(cloud, streamed_table).relay_records(removes) is None
    assert len(received(tapped, 13, timeout=1.5)) == 12  # no more arrived


def test_a_failed_publish_names_the_first_record_to_retry_and_keeps_the_items(
        cloud: LocalCloud, streamed_table: str, tapped: Watch) -> None:
    sent = events(3)
    commit(cloud, streamed_table, sent)
    records = stream_records(cloud, streamed_table)
    warnings: list[str] = []
    broken = relay(cloud, streamed_table, bus=f"missing-{uuid.uuid4().hex[:6]}",
                   warnings=warnings)
    assert broken.relay_records(records) == records[0]["dynamodb"]["SequenceNumber"]
    assert items_left(cloud, streamed_table) == 3 and len(warnings) == 1
    assert relay(cloud, streamed_table).relay_records(records) is None  # the retry
    assert sorted(received(tapped, 3)) == sorted(e.id for e in sent)
    assert items_left(cloud, streamed_table) == 0


def test_an_unreadable_item_is_reported_and_skipped(cloud: LocalCloud, streamed_table: str,
                                                    tapped: Watch) -> None:
    client(cloud, "dynamodb").put_item(TableName=streamed_table, Item={
        "pk": {"S": "OUTBOX#0"}, "sk": {"S": "x"}, "envelope": {"S": "not json"}})
    good = events(1)
    commit(cloud, streamed_table, good)
    warnings: list[str] = []
    records = stream_records(cloud, streamed_table)
    assert relay(cloud, streamed_table, warnings=warnings).relay_records(records) is None
    assert received(tapped, 1) == [good[0].id]
    assert len(warnings) == 1 and "skipped" in warnings[0]
    assert items_left(cloud, streamed_table) == 1  # left for a person to look at
