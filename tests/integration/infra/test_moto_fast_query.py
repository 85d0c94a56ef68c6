"""The local moto server's Query shortcut returns exactly what a full scan would."""

import uuid
from typing import Any

import boto3

from localcloud.stack import LocalCloud


def keyed_table(cloud: LocalCloud, prefix: str) -> tuple[Any, str]:
    """A DynamoDB client and a fresh table with string `pk`/`sk` keys."""
    ddb = boto3.client("dynamodb", endpoint_url=cloud.aws_url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
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
