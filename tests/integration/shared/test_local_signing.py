"""Placeholder signatures for calls to the local AWS endpoint (real moto server): the server
still finds the caller's region and account in them; S3, presigned URLs, calls to AWS and a
turned-off setting keep real SigV4 signatures."""

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from edu.adapters.dynamo_base import shared_client
from edu.adapters.local_signing import PLACEHOLDER_SIGNATURE_VERSION, is_local_endpoint
from edu.adapters.registry import Adapters
from edu.config import Settings
from localcloud.aws import LOCAL_CREDENTIALS, local_client, placeholder_signature_wanted
from localcloud.stack import LocalCloud

ZEROS = "Signature=" + "0" * 64
REGION = "eu-west-1"  # not moto's default region: it must come from the header


def sent_authorization(client: Any) -> list[str]:
    """The Authorization header of every request the client sends from now on."""
    seen: list[str] = []

    def record(request: Any, **_: Any) -> None:
        value = request.headers["Authorization"]
        seen.append(value.decode() if isinstance(value, bytes) else value)

    client.meta.events.register("before-send", record)
    return seen


def signer_for(client: Any, service: str) -> Any:
    _handler, chosen = client.meta.events.emit_until_response(
        f"choose-signer.{service}.GetItem", signing_name=service, region_name=REGION,
        signature_version="v4", context={})
    return chosen


@pytest.fixture
def adapters(cloud: LocalCloud, aws_env: dict[str, str]) -> Iterator[Adapters]:
    registry = Adapters(Settings(AWS_ENDPOINT_URL=cloud.aws_url, AWS_DEFAULT_REGION=REGION))
    yield registry
    registry.close()


def table_in(client: Any) -> str:
    name = f"signing-{uuid.uuid4().hex[:8]}"
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    return name


def test_the_server_reads_region_and_account_from_a_placeholder_signature(
        adapters: Adapters, cloud: LocalCloud) -> None:
    client = adapters.aws_client("dynamodb")
    headers = sent_authorization(client)
    name = table_in(client)
    client.put_item(TableName=name, Item={"pk": {"S": "a"}, "v": {"S": "kept"}})

    assert headers and all(h.endswith(ZEROS) for h in headers)
    assert all(f"/{REGION}/dynamodb/aws4_request" in h for h in headers)
    # A normally signing client of the same region and account sees the table and the item;
    # one of moto's default region does not.
    signed = boto3.client("dynamodb", endpoint_url=cloud.aws_url, region_name=REGION,
                          **LOCAL_CREDENTIALS)
    assert signed.get_item(TableName=name, Key={"pk": {"S": "a"}})["Item"]["v"] == {
        "S": "kept"}
    elsewhere = boto3.client("dynamodb", endpoint_url=cloud.aws_url, region_name="us-east-1",
                             **LOCAL_CREDENTIALS)
    assert name not in elsewhere.list_tables()["TableNames"]


def test_pynamodb_and_runtime_clients_send_placeholders(cloud: LocalCloud,
                                                        aws_env: dict[str, str]) -> None:
    dynamo = shared_client(cloud.aws_url, REGION)
    sqs = local_client("sqs", cloud.aws_url, REGION)
    dynamo_headers, sqs_headers = sent_authorization(dynamo), sent_authorization(sqs)
    table_in(dynamo)
    url = sqs.create_queue(QueueName=f"signing-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="hello")

    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "hello"
    assert dynamo_headers and all(h.endswith(ZEROS) for h in dynamo_headers)
    assert sqs_headers and all(h.endswith(ZEROS) for h in sqs_headers)


def test_s3_and_presigned_urls_keep_real_signatures(adapters: Adapters) -> None:
    s3 = adapters.aws_client("s3")
    headers = sent_authorization(s3)
    bucket = f"signing-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})

    assert headers and not any(h.endswith(ZEROS) for h in headers)
    signature = url.split("Signature=", 1)[1].split("&", 1)[0]
    assert signature and set(signature) != {"0"}


def test_calls_to_aws_or_with_the_setting_off_are_signed(cloud: LocalCloud,
                                                         aws_env: dict[str, str]) -> None:
    off = Adapters(Settings(AWS_ENDPOINT_URL=cloud.aws_url, AWS_DEFAULT_REGION=REGION,
                            EDU_AWS_PLACEHOLDER_SIGNATURE="false"))
    client = off.aws_client("dynamodb")
    headers = sent_authorization(client)
    client.list_tables()
    assert headers and not headers[0].endswith(ZEROS)
    assert signer_for(client, "dynamodb") is None

    # No request to AWS: the signer botocore would choose is asked directly.
    aws = Adapters(Settings(AWS_ENDPOINT_URL=None, AWS_DEFAULT_REGION=REGION))
    assert signer_for(aws.aws_client("dynamodb"), "dynamodb") is None
    local = Adapters(Settings(AWS_ENDPOINT_URL=cloud.aws_url, AWS_DEFAULT_REGION=REGION))
    assert signer_for(local.aws_client("dynamodb"), "dynamodb") == PLACEHOLDER_SIGNATURE_VERSION


@pytest.mark.parametrize(("url", "local"), [
    (None, False), ("", False), ("http://127.0.0.1:4566", True),
    ("http://localhost:4566/", True), ("http://[::1]:4566", True),
    ("https://dynamodb.eu-west-1.amazonaws.com", False),
    ("http://127.0.0.1.example.com:4566", False),
])
def test_only_endpoints_on_this_machine_count_as_local(url: str | None, local: bool) -> None:
    assert is_local_endpoint(url) is local


@pytest.mark.parametrize(("value", "wanted"), [
    (None, True), ("true", True), ("1", True), ("false", False), ("0", False),
    ("Off", False), ("no", False)])
def test_the_runtime_reads_the_switch_as_the_settings_do(
        value: str | None, wanted: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if value is None:
        monkeypatch.delenv("EDU_AWS_PLACEHOLDER_SIGNATURE", raising=False)
    else:
        monkeypatch.setenv("EDU_AWS_PLACEHOLDER_SIGNATURE", value)
        assert Settings().aws_placeholder_signature is wanted
    assert placeholder_signature_wanted() is wanted
