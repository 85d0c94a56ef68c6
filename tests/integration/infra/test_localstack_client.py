"""Code written for LocalStack reaches edu's local AWS endpoint unchanged: LocalStack's own
client (`localstack_client.session`, pointed at the endpoint as LOCALSTACK_HOST would be)
lists the stack's tables and buckets and round-trips a queue message."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import pytest
from localstack_client.session import Session

from localcloud.stack import LocalCloud


def test_localstack_client_drives_the_local_endpoint(cloud: LocalCloud,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)  # it would win over the host
    endpoint = urlsplit(cloud.aws_url)
    session = Session(localstack_host=f"{endpoint.hostname}:{endpoint.port}",
                      region_name="us-east-1")
    assert "edu-platform-users" in session.client("dynamodb").list_tables()["TableNames"]
    assert session.client("s3").list_buckets()["Buckets"]
    sqs = session.client("sqs")
    url = sqs.create_queue(QueueName=f"ls-client-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    (message,) = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)["Messages"]
    assert message["Body"] == "hello"
    sqs.delete_queue(QueueUrl=url)
