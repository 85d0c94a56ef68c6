"""moto's DynamoDB answers written directly as JSON (`install_direct_dynamo_json`),
dispatched without Flask (`DirectDispatch`; also SES's form calls) and with parsed condition
and update expressions remembered (`install_expression_cache`) are exactly what moto's own
path gives: four servers (moto's serializer through Flask; direct JSON through Flask; both
shortcuts; both shortcuts with moto parsing every expression) get the same calls over every
attribute type, the item operations, conditions, updates, emails and errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from localcloud.backing import aws_endpoint_healthy
from localcloud.moto_dynamodb import plain_json
from localcloud.procs import free_port, wait_until

ITEM = {"pk": {"S": "U#1"}, "sk": {"S": "E#01"}, "n": {"N": "12.50"},
        "flag": {"BOOL": True}, "none": {"NULL": True}, "blob": {"B": b"\x00\xffbytes"},
        "tags": {"SS": ["b", "a"]}, "nums": {"NS": ["1", "2"]}, "blobs": {"BS": [b"x", b"y"]},
        "list": {"L": [{"S": "x"}, {"N": "1"}, {"M": {"k": {"S": "v"}}}]},
        "map": {"M": {"nested": {"L": [{"BOOL": False}]}, "empty": {"S": ""}}}}
PLAIN = {"pk": {"S": "U#1"}, "sk": {"S": "E#02"}, "title": {"S": "Rust — ünïcode"},
         "count": {"N": "3"}, "done": {"BOOL": False}}


def client(url: str, service: str) -> Any:
    return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="x", aws_secret_access_key="x",
                        config=Config(retries={"max_attempts": 1}))


@pytest.fixture(scope="module")
def moto_servers() -> Iterator[dict[str, Any]]:
    clients, procs, urls = {}, [], {}
    for name, direct, dispatch, trees in (
            ("serializer", "0", "0", "1"), ("direct JSON", "1", "0", "1"),
            ("direct JSON and dispatch", "1", "1", "1"),
            ("moto's expression parsing", "1", "1", "0")):
        port = free_port()
        proc = subprocess.Popen([sys.executable, "-m", "localcloud.moto_server", "-H",
                                 "127.0.0.1", "-p", str(port)],
                                env={**os.environ, "EDU_MOTO_DIRECT_JSON": direct,
                                     "EDU_MOTO_DIRECT_DISPATCH": dispatch,
                                     "EDU_MOTO_EXPRESSION_CACHE": trees},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda url=url: aws_endpoint_healthy(url, 0.5), timeout=30, what=name,
                   proc=proc)
        clients[name] = client(url, "dynamodb")
        urls[name] = url
    yield {"dynamodb": clients, "urls": urls}
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def servers(moto_servers: dict[str, Any]) -> dict[str, Any]:
    return dict(moto_servers["dynamodb"])


def same(servers: dict[str, Any], operation: str, **params: Any) -> dict[str, Any]:
    """Calls every server; their parsed answers (without request ids) must be equal."""
    answers = []
    for client in servers.values():
        answer = getattr(client, operation)(**params)
        answer.pop("ResponseMetadata", None)
        answers.append(answer)
    assert all(answer == answers[0] for answer in answers), operation
    return answers[0]


def same_error(servers: dict[str, Any], operation: str, **params: Any) -> str:
    """Calls every server; each must refuse with the same code, message and status."""
    errors = []
    for client in servers.values():
        with pytest.raises(ClientError) as refused:
            getattr(client, operation)(**params)
        response = refused.value.response
        errors.append((response["Error"]["Code"], response["Error"].get("Message"),
                       response["ResponseMetadata"]["HTTPStatusCode"],
                       response.get("CancellationReasons")))
    assert all(error == errors[0] for error in errors), operation
    return str(errors[0][0])


def test_answers_match_the_serializer_for_every_operation(servers: dict[str, Any]) -> None:
    table = {"TableName": "t"}
    # created apart: the servers' creation times differ
    for client in servers.values():
        client.create_table(**table, BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                       {"AttributeName": "sk", "KeyType": "RANGE"}],
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                  {"AttributeName": "sk",
                                                   "AttributeType": "S"}])
    assert same(servers, "put_item", **table, Item=ITEM) == {}
    assert same(servers, "put_item", **table, Item=PLAIN) == {}
    old = same(servers, "put_item", **table, Item={**PLAIN, "count": {"N": "4"}},
               ReturnValues="ALL_OLD")
    assert old["Attributes"]["count"] == {"N": "3"}
    assert same(servers, "get_item", **table, Key={"pk": ITEM["pk"], "sk": ITEM["sk"]},
                ConsistentRead=True)["Item"]["blob"] == {"B": b"\x00\xffbytes"}
    assert same(servers, "get_item", **table,
                Key={"pk": PLAIN["pk"], "sk": PLAIN["sk"]})["Item"]["title"] == PLAIN["title"]
    assert same(servers, "get_item", **table, Key={"pk": {"S": "nobody"}, "sk": {"S": "x"}}) \
        == {}
    page = same(servers, "query", **table, KeyConditionExpression="pk = :p",
                ExpressionAttributeValues={":p": {"S": "U#1"}}, Limit=1)
    assert page["Count"] == 1 and "LastEvaluatedKey" in page
    assert same(servers, "query", **table, KeyConditionExpression="pk = :p",
                ExpressionAttributeValues={":p": {"S": "U#1"}},
                ExclusiveStartKey=page["LastEvaluatedKey"])["Count"] == 1
    assert same(servers, "query", **table, KeyConditionExpression="pk = :p",
                ExpressionAttributeValues={":p": {"S": "U#1"}},
                ProjectionExpression="sk, #t", ExpressionAttributeNames={"#t": "title"},
                ScanIndexForward=False)["Count"] == 2
    assert same(servers, "scan", **table, Select="COUNT")["Count"] == 2
    updated = same(servers, "update_item", **table, Key={"pk": PLAIN["pk"], "sk": PLAIN["sk"]},
                   UpdateExpression="SET #c = #c + :one, done = :t",
                   ExpressionAttributeNames={"#c": "count"},
                   ExpressionAttributeValues={":one": {"N": "1"}, ":t": {"BOOL": True}},
                   ReturnValues="ALL_NEW")
    assert updated["Attributes"]["count"] == {"N": "5"}
    got = same(servers, "batch_get_item", RequestItems={"t": {"Keys": [
        {"pk": ITEM["pk"], "sk": ITEM["sk"]}, {"pk": PLAIN["pk"], "sk": PLAIN["sk"]}],
        "ConsistentRead": True}})
    assert len(got["Responses"]["t"]) == 2
    assert same(servers, "batch_write_item", RequestItems={"t": [
        {"PutRequest": {"Item": {"pk": {"S": "U#2"}, "sk": {"S": "E#01"}}}}]}
    )["UnprocessedItems"] == {}
    same(servers, "transact_write_items", TransactItems=[
        {"Put": {**table, "Item": {"pk": {"S": "U#3"}, "sk": {"S": "E#01"}},
                 "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Update": {**table, "Key": {"pk": PLAIN["pk"], "sk": PLAIN["sk"]},
                    "UpdateExpression": "SET done = :f",
                    "ExpressionAttributeValues": {":f": {"BOOL": False}}}}])
    both = same(servers, "transact_get_items", TransactItems=[
        {"Get": {**table, "Key": {"pk": {"S": "U#3"}, "sk": {"S": "E#01"}}}},
        {"Get": {**table, "Key": {"pk": ITEM["pk"], "sk": ITEM["sk"]}}}])
    assert both["Responses"][1]["Item"]["blobs"] == {"BS": [b"x", b"y"]}
    removed = same(servers, "delete_item", **table, Key={"pk": ITEM["pk"], "sk": ITEM["sk"]},
                   ReturnValues="ALL_OLD")
    assert removed["Attributes"]["map"] == ITEM["map"]
    described = [client.describe_table(**table)["Table"] for client in servers.values()]
    assert all(d["ItemCount"] == described[0]["ItemCount"] and
               d["KeySchema"] == described[0]["KeySchema"] for d in described)
    assert same_error(servers, "put_item", **table, Item=PLAIN,
                      ConditionExpression="attribute_not_exists(pk)") \
        == "ConditionalCheckFailedException"
    assert same_error(servers, "get_item", TableName="missing",
                      Key={"pk": {"S": "x"}, "sk": {"S": "y"}}) == "ResourceNotFoundException"
    assert same_error(servers, "transact_write_items", TransactItems=[
        {"Put": {**table, "Item": {"pk": {"S": "U#3"}, "sk": {"S": "E#01"}},
                 "ConditionExpression": "attribute_not_exists(pk)"}}]) \
        == "TransactionCanceledException"
    assert same_error(servers, "query", **table, KeyConditionExpression="nope = :p",
                      ExpressionAttributeValues={":p": {"S": "x"}}) == "ValidationException"


def test_remembered_expressions_decide_and_refuse_as_moto_s_parsers(
        servers: dict[str, Any]) -> None:
    table = {"TableName": "conditions"}
    for client in servers.values():
        client.create_table(**table, BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    absent = {"ConditionExpression": "attribute_not_exists (#0) OR #1 = :0",
              "ExpressionAttributeNames": {"#0": "pk", "#1": "done"},
              "ExpressionAttributeValues": {":0": {"BOOL": False}}}
    counted = {"ConditionExpression": "attribute_exists (#0) AND #1 = :0",
               "ExpressionAttributeNames": {"#0": "pk", "#1": "n"}}
    for _round in range(2):  # the second round meets every expression remembered
        same(servers, "put_item", **table, Item={"pk": {"S": "p"}, "done": {"BOOL": False}},
             **absent)
        same(servers, "put_item", **table, Item={"pk": {"S": "c"}, "n": {"N": "0"}})
        for n in range(3):
            same(servers, "update_item", **table, Key={"pk": {"S": "c"}},
                 UpdateExpression="SET #1 = :1", **counted,
                 ExpressionAttributeValues={":0": {"N": str(n)}, ":1": {"N": str(n + 1)}})
        # the same condition and values, now false: the remembered tree reads the item anew
        assert same_error(servers, "update_item", **table, Key={"pk": {"S": "c"}},
                          UpdateExpression="SET #1 = :1", **counted,
                          ExpressionAttributeValues={":0": {"N": "0"}, ":1": {"N": "1"}}
                          ) == "ConditionalCheckFailedException"
        same(servers, "put_item", **table, Item={"pk": {"S": "p"}, "done": {"BOOL": True}},
             **absent)
        assert same_error(servers, "put_item", **table,
                          Item={"pk": {"S": "p"}, "done": {"BOOL": True}}, **absent
                          ) == "ConditionalCheckFailedException"
        assert same_error(servers, "transact_write_items", TransactItems=[
            {"Put": {**table, "Item": {"pk": {"S": "p"}}, **absent}},
            {"Update": {**table, "Key": {"pk": {"S": "c"}}, "UpdateExpression": "SET #1 = :1",
                        **counted, "ExpressionAttributeValues": {":0": {"N": "3"},
                                                                 ":1": {"N": "4"}}}}]
        ) == "TransactionCanceledException"
        same(servers, "delete_item", **table, Key={"pk": {"S": "p"}},
             ConditionExpression="#1 = :0", ExpressionAttributeNames={"#1": "done"},
             ExpressionAttributeValues={":0": {"BOOL": True}})
        assert same(servers, "scan", **table, FilterExpression="#1 > :0",
                    ExpressionAttributeNames={"#1": "n"},
                    ExpressionAttributeValues={":0": {"N": "2"}})["Count"] == 1
        # names the expression does not use, and an expression that does not parse
        assert same_error(servers, "put_item", **table, Item={"pk": {"S": "x"}},
                          ConditionExpression="attribute_not_exists (#0)",
                          ExpressionAttributeNames={"#0": "pk", "#9": "unused"}
                          ) == "ValidationException"
        # (moto answers a condition that does not parse with a 500, AWS with a
        # ValidationException: what matters here is that every server refuses alike)
        same_error(servers, "put_item", **table, Item={"pk": {"S": "x"}},
                   ConditionExpression="attribute_not_exists (#0) AND",
                   ExpressionAttributeNames={"#0": "pk"})
        # one update expression, many items and values: each update reads its own item
        for n in range(3):
            grown = same(servers, "update_item", **table, Key={"pk": {"S": f"u{n % 2}"}},
                         UpdateExpression="SET #c = if_not_exists(#c, :zero) + :by, "
                                          "#l = list_append(if_not_exists(#l, :empty), :x) "
                                          "REMOVE #gone",
                         ExpressionAttributeNames={"#c": "count", "#l": "log", "#gone": "old"},
                         ExpressionAttributeValues={":zero": {"N": "0"}, ":by": {"N": str(n)},
                                                    ":empty": {"L": []},
                                                    ":x": {"L": [{"N": str(n)}]}},
                         ReturnValues="ALL_NEW")
            assert grown["Attributes"]["log"]["L"][-1] == {"N": str(n)}
        assert same_error(servers, "update_item", **table, Key={"pk": {"S": "u0"}},
                          UpdateExpression="SET #c = :by",
                          ExpressionAttributeNames={"#c": "count", "#9": "unused"},
                          ExpressionAttributeValues={":by": {"N": "1"}}) == "ValidationException"
        same_error(servers, "update_item", **table, Key={"pk": {"S": "u0"}},
                   UpdateExpression="SET #c =", ExpressionAttributeNames={"#c": "count"})
        for key in ("c", "u0", "u1"):
            same(servers, "delete_item", **table, Key={"pk": {"S": key}})


def test_only_plain_answers_skip_the_serializer() -> None:
    assert plain_json({"Item": PLAIN, "Count": 1, "ScannedCount": 1.0, "List": [True]})
    assert not plain_json({"Item": {"blob": {"B": b"\x00"}}})  # bytes: base64 on the way
    assert not plain_json({"LastEvaluatedKey": None})  # the serializer leaves None out
    assert not plain_json({"CreationDateTime": datetime.now(UTC)})
    assert not plain_json({1: "non-string key"})


def test_ses_answers_match_moto_s_own_path(moto_servers: dict[str, Any]) -> None:
    seen: list[tuple[Any, ...]] = []
    for url in moto_servers["urls"].values():
        ses = client(url, "ses")
        ses.verify_email_identity(EmailAddress="from@example.com")
        sent = ses.send_email(Source="from@example.com",
                              Destination={"ToAddresses": ["a@example.com"],
                                           "CcAddresses": ["b@example.com"]},
                              Message={"Subject": {"Data": "Welcome — ünïcode"},
                                       "Body": {"Text": {"Data": "hi"},
                                                "Html": {"Data": "<p>hi</p>"}}})
        with pytest.raises(ClientError) as unverified:
            ses.send_email(Source="nobody@example.org",
                           Destination={"ToAddresses": ["a@example.com"]},
                           Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}})
        error = unverified.value.response
        seen.append((bool(sent["MessageId"]), sent["ResponseMetadata"]["HTTPStatusCode"],
                     ses.list_identities()["Identities"],
                     ses.get_send_quota()["SentLast24Hours"],
                     error["Error"]["Code"], error["Error"]["Message"],
                     error["ResponseMetadata"]["HTTPStatusCode"]))
    assert seen[0][:5] == (True, 200, ["from@example.com"], 2.0, "MessageRejected")
    assert all(answer == seen[0] for answer in seen)


def test_sqs_and_eventbridge_answers_match_moto_s_own_path(
        moto_servers: dict[str, Any]) -> None:
    seen: list[tuple[Any, ...]] = []
    for url in moto_servers["urls"].values():
        sqs, events = client(url, "sqs"), client(url, "events")
        queue = sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "30"})
        arn = sqs.get_queue_attributes(QueueUrl=queue["QueueUrl"], AttributeNames=[
            "QueueArn"])["Attributes"]["QueueArn"]
        events.create_event_bus(Name="bus")
        events.put_rule(Name="r", EventBusName="bus",
                        EventPattern='{"source": [{"prefix": "edu."}]}')
        events.put_targets(Rule="r", EventBusName="bus", Targets=[{"Id": "t", "Arn": arn}])
        put = events.put_events(Entries=[{"EventBusName": "bus", "Source": "edu.test",
                                          "DetailType": "x", "Detail": '{"n": 1}'}])
        sqs.send_message(QueueUrl=queue["QueueUrl"], MessageBody="hello",
                         MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}})
        got = sqs.receive_message(QueueUrl=queue["QueueUrl"], MaxNumberOfMessages=10,
                                  MessageAttributeNames=["All"], AttributeNames=["All"])
        bodies = sorted(m["Body"] if m["Body"] == "hello" else
                        str(sorted(json.loads(m["Body"])["detail"].items()))
                        for m in got["Messages"])
        deleted = sqs.delete_message_batch(QueueUrl=queue["QueueUrl"], Entries=[
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
            for n, m in enumerate(got["Messages"])])
        counts = sqs.get_queue_attributes(QueueUrl=queue["QueueUrl"], AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
        with pytest.raises(ClientError) as missing:
            sqs.receive_message(QueueUrl=queue["QueueUrl"] + "-missing")
        attributes = sorted(next(m for m in got["Messages"]
                                 if m["Body"] == "hello")["MessageAttributes"].items())
        seen.append((put["FailedEntryCount"], len(put["Entries"]), bodies, attributes,
                     sorted(e["Id"] for e in deleted["Successful"]), counts["Attributes"],
                     missing.value.response["Error"]["Code"]))
    assert seen[0][2] == ["[('n', 1)]", "hello"] and seen[0][5] == {
        "ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}
    assert all(answer == seen[0] for answer in seen)


def streamed_table(ddb: Any, name: str, view: str) -> str:
    """A table keyed by `pk` with a stream of that view; its stream's ARN."""
    return str(ddb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
    )["TableDescription"]["LatestStreamArn"])


def stream_iterator(streams: Any, arn: str, position: str = "TRIM_HORIZON"
                    ) -> tuple[str, str]:
    """An iterator at `position` of the stream's (moto's only) shard, and the shard's id."""
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                          ShardIteratorType=position)["ShardIterator"]
    return str(iterator), str(shard["ShardId"])


def stream_reads(url: str, table: str) -> tuple[list[tuple[Any, ...]], str]:
    """A table with a stream, three writes, and what its stream answers."""
    ddb, streams = client(url, "dynamodb"), client(url, "dynamodbstreams")
    arn = streamed_table(ddb, table, "NEW_AND_OLD_IMAGES")
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "n": {"N": "1"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "n": {"N": "2"}})
    ddb.delete_item(TableName=table, Key={"pk": {"S": "a"}})
    iterator, shard_id = stream_iterator(streams, arn)
    got = streams.get_records(ShardIterator=iterator, Limit=2)
    rest = streams.get_records(ShardIterator=got["NextShardIterator"])
    records = []
    for record in got["Records"] + rest["Records"]:
        change = dict(record["dynamodb"])
        # Differ server to server: the time, and moto's size estimate (the time's JSON).
        created = change.pop("ApproximateCreationDateTime")
        assert isinstance(created, datetime) and created.tzinfo is not None
        assert change.pop("SizeBytes") > 0
        records.append((record["eventName"], change["SequenceNumber"],
                        (change.get("NewImage"), change.get("OldImage")),
                        {k: v for k, v in record.items() if k not in ("eventID", "dynamodb")},
                        change))
    return records, shard_id


def test_dynamodb_stream_answers_match_moto_s_own_path(moto_servers: dict[str, Any]) -> None:
    seen = [stream_reads(url, "streamed") for url in moto_servers["urls"].values()]
    records = seen[0][0]
    assert [r[0] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    assert records[1][2] == ({"pk": {"S": "a"}, "n": {"N": "2"}},
                             {"pk": {"S": "a"}, "n": {"N": "1"}})
    assert all(answer == seen[0] for answer in seen)


def test_a_stream_keeps_its_newest_records_and_reads_on_from_the_oldest_kept() -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "localcloud.moto_server", "-H",
                             "127.0.0.1", "-p", str(port)],
                            env={**os.environ, "EDU_MOTO_STREAM_RECORDS": "20"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: aws_endpoint_healthy(url, 0.5), timeout=30, what="moto", proc=proc)
        ddb, streams = client(url, "dynamodb"), client(url, "dynamodbstreams")
        arn = streamed_table(ddb, "t", "KEYS_ONLY")
        oldest, _shard = stream_iterator(streams, arn)
        for n in range(30):
            ddb.put_item(TableName="t", Item={"pk": {"S": f"k{n:02}"}})
        # 30 records, 20 kept once 2 more than that arrived (trimmed in steps of 2): the
        # iterator taken before the writes reads on from the oldest record kept.
        keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in streams.get_records(
            ShardIterator=oldest)["Records"]]
        assert keys == [f"k{n:02}" for n in range(10, 30)]
        for _ in range(1_100):  # more iterators than the server keeps: it still answers
            fresh, _shard = stream_iterator(streams, arn, "LATEST")
        assert streams.get_records(ShardIterator=fresh)["Records"] == []
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_cancelled_transaction_leaves_nothing_on_the_stream(
        moto_servers: dict[str, Any]) -> None:
    url = moto_servers["urls"]["direct JSON and dispatch"]
    ddb, streams = client(url, "dynamodb"), client(url, "dynamodbstreams")
    arn = streamed_table(ddb, "tx-streamed", "NEW_IMAGE")
    ddb.put_item(TableName="tx-streamed", Item={"pk": {"S": "taken"}})

    def transaction(last: str) -> list[dict[str, Any]]:
        return [{"Put": {"TableName": "tx-streamed", "Item": {"pk": {"S": "event"}}}},
                {"Put": {"TableName": "tx-streamed", "Item": {"pk": {"S": last}},
                         "ConditionExpression": "attribute_not_exists(pk)"}}]

    with pytest.raises(ClientError) as cancelled:
        ddb.transact_write_items(TransactItems=transaction("taken"))
    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    ddb.transact_write_items(TransactItems=transaction("free"))
    iterator, _shard = stream_iterator(streams, arn)
    records = streams.get_records(ShardIterator=iterator)["Records"]
    assert [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in records] == [
        ("INSERT", "taken"), ("INSERT", "event"), ("INSERT", "free")]
