"""The local moto server: its Query shortcut returns exactly what a full scan would, and
it enforces S3 POST policies as S3 does."""

import base64
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from localcloud.moto_s3_post import PolicyViolation, check_post_policy
from localcloud.stack import LocalCloud
from tests.support.aws import aws_client


def keyed_table(cloud: LocalCloud, prefix: str) -> tuple[Any, str]:
    """A DynamoDB client and a fresh table with string `pk`/`sk` keys."""
    ddb = aws_client(cloud, "dynamodb")
    table = f"{prefix}-{uuid.uuid4().hex[:8]}"
    ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                {"AttributeName": "sk", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "S"}])
    return ddb, table


def test_query_results_match_dynamodb_semantics(cloud: LocalCloud) -> None:
    ddb, table = keyed_table(cloud, "fastquery")
    for user in ("a", "b", "c"):
        for i in range(12):
            ddb.put_item(TableName=table, Item={"pk": {"S": f"U#{user}"},
                                                "sk": {"S": f"E#{i:02d}"}, "n": {"N": str(i)}})

    def query(**kwargs: object) -> list[str]:
        out, start = [], None
        while True:
            extra = {"ExclusiveStartKey": start} if start else {}
            resp = ddb.query(TableName=table, KeyConditionExpression="pk = :p AND sk > :s",
                             ExpressionAttributeValues={":p": {"S": "U#b"}, ":s": {"S": "E#03"}},
                             **kwargs, **extra)
            out += [item["sk"]["S"] for item in resp["Items"]]
            start = resp.get("LastEvaluatedKey")
            if not start:
                return out

    forward = query(Limit=5)
    assert forward == [f"E#{i:02d}" for i in range(4, 12)]
    assert query(Limit=3, ScanIndexForward=False) == list(reversed(forward))
    missing = ddb.query(TableName=table, KeyConditionExpression="pk = :p",
                        ExpressionAttributeValues={":p": {"S": "U#nobody"}})
    assert missing["Items"] == []
    assert ddb.scan(TableName=table)["Count"] == 36  # scans still see the whole table


def test_failed_transaction_leaves_every_item_as_it_was(cloud: LocalCloud) -> None:
    import pytest
    from botocore.exceptions import ClientError

    ddb, table = keyed_table(cloud, "tx")
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"N": "1"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "b"}, "sk": {"S": "1"}, "v": {"N": "1"}})
    with pytest.raises(ClientError, match="TransactionCanceled"):
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"S": "new"}, "sk": {"S": "1"}}}},
            {"Update": {"TableName": table, "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}},
                        "UpdateExpression": "SET v = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}}}},
            {"Put": {"TableName": table, "Item": {"pk": {"S": "b"}, "sk": {"S": "1"}},
                     "ConditionExpression": "attribute_not_exists(pk)"}}])
    items = {(i["pk"]["S"], i["v"]["N"] if "v" in i else None)
             for i in ddb.scan(TableName=table)["Items"]}
    assert items == {("a", "1"), ("b", "1")}  # nothing of the failed transaction remains
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": table, "Item": {"pk": {"S": "new"}, "sk": {"S": "1"}}}},
        {"Update": {"TableName": table, "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}},
                    "UpdateExpression": "SET v = :two",
                    "ExpressionAttributeValues": {":two": {"N": "2"}}}}])
    items = {(i["pk"]["S"], i["v"]["N"] if "v" in i else None)
             for i in ddb.scan(TableName=table)["Items"]}
    assert items == {("a", "2"), ("b", "1"), ("new", None)}


def presigned_form(cloud: LocalCloud, max_bytes: int) -> tuple[Any, str, dict[str, Any]]:
    s3 = aws_client(cloud, "s3")
    bucket = f"policy-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    post = s3.generate_presigned_post(
        bucket, "uploads/a/source", Fields={"Content-Type": "video/mp4"},
        Conditions=[{"Content-Type": "video/mp4"}, ["content-length-range", 1, max_bytes]],
        ExpiresIn=300)
    return s3, bucket, post


def upload(post: dict[str, Any], body: bytes, **overrides: str) -> httpx.Response:
    fields = {**post["fields"], **overrides}
    return httpx.post(post["url"], data=fields, files={"file": ("clip.mp4", body)})


def test_post_policy_is_enforced_like_s3(cloud: LocalCloud) -> None:
    s3, bucket, post = presigned_form(cloud, max_bytes=100)

    too_big = upload(post, b"x" * 101)
    assert too_big.status_code == 400 and "EntityTooLarge" in too_big.text
    wrong_type = upload(post, b"x" * 10, **{"Content-Type": "text/html"})
    assert wrong_type.status_code == 403 and "content-type" in wrong_type.text
    other_key = upload(post, b"x" * 10, key="uploads/b/source")
    assert other_key.status_code == 403 and "$key" in other_key.text
    extra = upload(post, b"x" * 10, **{"x-amz-meta-owner": "mallory"})
    assert extra.status_code == 403 and "Extra input fields" in extra.text
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0  # nothing was stored

    ok = upload(post, b"x" * 100)
    assert ok.status_code == 204, ok.text
    head = s3.head_object(Bucket=bucket, Key="uploads/a/source")
    assert head["ContentLength"] == 100


def test_expired_post_policy_is_refused() -> None:
    policy = base64.b64encode(json.dumps(
        {"expiration": "2020-01-01T00:00:00Z", "conditions": [{"key": "k"}]}).encode())
    with pytest.raises(PolicyViolation) as denied:
        check_post_policy({"policy": policy.decode(), "key": "k"}, "b", 1)
    assert denied.value.status == 403 and "expired" in denied.value.message
    future = datetime.now(UTC) + timedelta(minutes=5)
    fine = base64.b64encode(json.dumps({"expiration": future.isoformat(), "conditions": [
        {"key": "k"}, ["starts-with", "$Content-Type", "video/"]]}).encode()).decode()
    check_post_policy({"policy": fine, "key": "k", "Content-Type": "video/webm"}, "b", 1)
    with pytest.raises(PolicyViolation):
        check_post_policy({"policy": fine, "key": "k", "Content-Type": "image/png"}, "b", 1)


def test_conditional_writes_are_atomic_under_concurrency(cloud: LocalCloud) -> None:
    """DynamoDB applies a conditional write (check, then write) atomically per item; moto
    serves requests on many threads, so without a lock two writers could both pass the same
    check. Eight threads each add 1 to a counter twenty times through a compare-and-set
    (condition: the value read): every increment must land, none twice."""
    ddb, table = keyed_table(cloud, "atomic")
    key = {"pk": {"S": "counter"}, "sk": {"S": "n"}}
    ddb.put_item(TableName=table, Item={**key, "n": {"N": "0"}})
    conflicts = [0]

    def add_twenty() -> None:
        client = aws_client(cloud, "dynamodb")
        done = 0
        while done < 20:
            seen = client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]["n"]["N"]
            try:
                client.update_item(
                    TableName=table, Key=key, UpdateExpression="SET n = :next",
                    ConditionExpression="n = :seen",
                    ExpressionAttributeValues={":seen": {"N": seen},
                                               ":next": {"N": str(int(seen) + 1)}})
                done += 1
            except client.exceptions.ConditionalCheckFailedException:
                conflicts[0] += 1

    threads = [threading.Thread(target=add_twenty) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    final = ddb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]["n"]["N"]
    assert final == "160", f"{final} after 160 successful increments ({conflicts[0]} conflicts)"


def test_the_call_ledger_counts_calls_by_service_and_operation(cloud: LocalCloud) -> None:
    ledger = f"{cloud.aws_url}/_edu/calls"
    ddb, table = keyed_table(cloud, "ledger")
    httpx.delete(ledger).raise_for_status()
    for i in range(3):
        ddb.get_item(TableName=table, Key={"pk": {"S": f"p{i}"}, "sk": {"S": "s"}})
    aws_client(cloud, "ses").verify_email_identity(EmailAddress="ledger@example.com")  # a form
    rows = {(r["service"], r["operation"]): r for r in httpx.get(ledger).json()["calls"]}
    assert rows[("dynamodb", "GetItem")]["calls"] >= 3
    assert rows[("dynamodb", "GetItem")]["cpu_ms"] > 0
    assert rows[("ses", "VerifyEmailIdentity")]["calls"] == 1
    assert ("dynamodb", "CreateTable") not in rows  # made before the reset
