"""The local AWS endpoint with a state directory: what it acknowledged survives a graceful
restart and a SIGKILL, items come back as they were (and answer queries, scans, index
queries and conditional writes as before), and re-running the same creates on every start
does not grow the journal."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from localcloud.procs import free_port, wait_until
from localcloud.services import aws_endpoint_healthy

ROOT = Path(__file__).resolve().parents[3]
REGION = "eu-west-1"


@dataclass
class Endpoint:
    state: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = (self.state / "moto.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "localcloud.moto_server", "-p", str(self.port),
             "--state", str(self.state)], cwd=ROOT / "infra", stdout=log, stderr=log)
        wait_until(lambda: aws_endpoint_healthy(self.url, 0.5), timeout=30,
                   what="moto server")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)
        self.proc.wait(timeout=30)
        self.proc = None

    def restart(self, sig: int = signal.SIGTERM) -> None:
        self.stop(sig)
        self.start()

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.url,  # type: ignore[call-overload]
                            region_name=REGION, aws_access_key_id="testing",
                            aws_secret_access_key="testing")

    def journal_length(self) -> int:
        with sqlite3.connect(self.state / "aws.sqlite") as db:
            return int(db.execute("SELECT count(*) FROM requests").fetchone()[0])


@pytest.fixture
def endpoint(tmp_path: Path) -> Iterator[Endpoint]:
    ep = Endpoint(tmp_path, free_port())
    ep.start()
    yield ep
    if ep.proc is not None:
        ep.stop(signal.SIGKILL)


def create_enrollments_table(ddb: Any) -> None:
    ddb.create_table(
        TableName="enrollments", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"},
                              {"AttributeName": "course", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[{"IndexName": "by-course",
                                 "KeySchema": [{"AttributeName": "course", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}])


def write_everything(ep: Endpoint) -> None:
    ddb, secrets, sqs = ep.client("dynamodb"), ep.client("secretsmanager"), ep.client("sqs")
    create_enrollments_table(ddb)
    ddb.create_table(TableName="counters", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    for user in range(3):
        for course in range(4):
            ddb.put_item(TableName="enrollments", Item={
                "pk": {"S": f"USER#{user}"}, "sk": {"S": f"ENROLL#{course}"},
                "course": {"S": f"C{course}"}, "done": {"N": "0"}})
    ddb.update_item(TableName="enrollments", Key={"pk": {"S": "USER#1"}, "sk": {"S": "ENROLL#2"}},
                    UpdateExpression="SET done = done + :n", ExpressionAttributeValues={
                        ":n": {"N": "3"}})
    ddb.delete_item(TableName="enrollments", Key={"pk": {"S": "USER#2"}, "sk": {"S": "ENROLL#0"}})
    ddb.batch_write_item(RequestItems={"counters": [
        {"PutRequest": {"Item": {"id": {"S": "views"}, "n": {"N": "7"}}}},
        {"PutRequest": {"Item": {"id": {"S": "likes"}, "n": {"N": "1"}}}}]})
    ddb.transact_write_items(TransactItems=[
        {"Update": {"TableName": "counters", "Key": {"id": {"S": "views"}},
                    "UpdateExpression": "SET n = n + :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        {"Delete": {"TableName": "counters", "Key": {"id": {"S": "likes"}}}}])
    secrets.create_secret(Name="signing-key", SecretString="first")
    secrets.put_secret_value(SecretId="signing-key", SecretString="rotated")
    sqs.create_queue(QueueName="jobs", Attributes={"VisibilityTimeout": "17"})


def assert_everything(ep: Endpoint) -> None:
    ddb = ep.client("dynamodb")
    user1 = ddb.query(TableName="enrollments", KeyConditionExpression="pk = :p",
                      ExpressionAttributeValues={":p": {"S": "USER#1"}})["Items"]
    assert [(i["sk"]["S"], i["done"]["N"]) for i in user1] == [
        ("ENROLL#0", "0"), ("ENROLL#1", "0"), ("ENROLL#2", "3"), ("ENROLL#3", "0")]
    assert ddb.scan(TableName="enrollments")["Count"] == 11
    by_course = ddb.query(TableName="enrollments", IndexName="by-course",
                          KeyConditionExpression="course = :c",
                          ExpressionAttributeValues={":c": {"S": "C0"}})["Items"]
    assert sorted(i["pk"]["S"] for i in by_course) == ["USER#0", "USER#1"]
    assert ddb.get_item(TableName="counters", Key={"id": {"S": "views"}})["Item"]["n"] == {
        "N": "8"}
    assert "Item" not in ddb.get_item(TableName="counters", Key={"id": {"S": "likes"}})
    secret = ep.client("secretsmanager").get_secret_value(SecretId="signing-key")
    assert secret["SecretString"] == "rotated"
    sqs = ep.client("sqs")
    url = sqs.get_queue_url(QueueName="jobs")["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    assert attrs["Attributes"]["VisibilityTimeout"] == "17"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["graceful", "kill-9"])
def test_what_was_acknowledged_survives_a_restart(endpoint: Endpoint, sig: int) -> None:
    write_everything(endpoint)
    endpoint.restart(sig)
    assert_everything(endpoint)
    endpoint.restart(signal.SIGKILL)  # and again: restored state is kept as well
    assert_everything(endpoint)


def test_restored_items_take_writes_and_conditions_as_before(endpoint: Endpoint) -> None:
    write_everything(endpoint)
    endpoint.restart(signal.SIGKILL)
    ddb = endpoint.client("dynamodb")
    with pytest.raises(ClientError) as refused:  # the restored item is there for conditions
        ddb.put_item(TableName="enrollments", ConditionExpression="attribute_not_exists(pk)",
                     Item={"pk": {"S": "USER#0"}, "sk": {"S": "ENROLL#1"}, "course": {"S": "X"}})
    assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    ddb.put_item(TableName="enrollments", Item={"pk": {"S": "USER#0"}, "sk": {"S": "ENROLL#9"},
                                               "course": {"S": "C9"}})
    ddb.delete_item(TableName="enrollments", Key={"pk": {"S": "USER#0"}, "sk": {"S": "ENROLL#1"}})
    ddb.put_item(TableName="counters", Item={"id": {"S": "views"}, "n": {"N": "100"}})
    endpoint.restart(signal.SIGKILL)
    user0 = ddb.query(TableName="enrollments", KeyConditionExpression="pk = :p",
                      ExpressionAttributeValues={":p": {"S": "USER#0"}})["Items"]
    assert [i["sk"]["S"] for i in user0] == ["ENROLL#0", "ENROLL#2", "ENROLL#3", "ENROLL#9"]
    assert ddb.get_item(TableName="counters", Key={"id": {"S": "views"}})["Item"]["n"] == {
        "N": "100"}


def test_a_deleted_table_stays_deleted_and_its_items_go(endpoint: Endpoint) -> None:
    write_everything(endpoint)
    ddb = endpoint.client("dynamodb")
    ddb.delete_table(TableName="enrollments")
    endpoint.restart(signal.SIGKILL)
    assert ddb.list_tables()["TableNames"] == ["counters"]
    create_enrollments_table(ddb)  # created anew: empty, not the old items back
    endpoint.restart(signal.SIGKILL)
    assert ddb.scan(TableName="enrollments")["Count"] == 0


def test_the_same_creates_on_every_start_do_not_grow_the_journal(endpoint: Endpoint) -> None:
    def provision() -> None:  # what `edu up` re-applies from the template at each start
        sqs, sns = endpoint.client("sqs"), endpoint.client("sns")
        sqs.create_queue(QueueName="jobs", Attributes={"VisibilityTimeout": "17"})
        topic = sns.create_topic(Name="events")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs",
                      Endpoint=f"arn:aws:sqs:{REGION}:123456789012:jobs")

    provision()
    length = endpoint.journal_length()
    for _ in range(2):
        endpoint.restart()
        provision()
    assert endpoint.journal_length() == length
    assert len(endpoint.client("sns").list_subscriptions()["Subscriptions"]) == 1
