"""SDK clients for tests, pointed at the session's local AWS endpoint."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3

from localcloud.stack import LocalCloud


def aws_client(cloud: LocalCloud, service: str) -> Any:
    return boto3.client(service, endpoint_url=cloud.aws_url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@contextmanager
def keyed_table(cloud: LocalCloud, stream_view: str | None = None) -> Iterator[str]:
    """A table of the test's own with our `pk`/`sk` keys (and a stream, if a view is given),
    deleted afterwards."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    ddb = aws_client(cloud, "dynamodb")
    stream = ({"StreamSpecification": {"StreamEnabled": True, "StreamViewType": stream_view}}
              if stream_view else {})
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                {"AttributeName": "sk", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "S"}],
                     **stream)
    try:
        yield name
    finally:
        ddb.delete_table(TableName=name)
