"""A resource the template no longer declares is dropped on the next provisioning and said
so (kept with DeletionPolicy: Retain); what the template never made is left alone."""

from __future__ import annotations

import uuid
from pathlib import Path

from localcloud.aws import bootstrap
from localcloud.provisioned import drop_removed
from localcloud.stack import LocalCloud
from localcloud.template import load_template
from tests.support.aws import aws_client

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Jobs:
    Type: AWS::SQS::Queue
    Properties: {{QueueName: {p}-jobs}}
  Ledger:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: {p}-ledger
      BillingMode: PAY_PER_REQUEST
      KeySchema: [{{AttributeName: pk, KeyType: HASH}}]
      AttributeDefinitions: [{{AttributeName: pk, AttributeType: S}}]
  Archive:
    Type: AWS::S3::Bucket
    DeletionPolicy: Retain
    Properties: {{BucketName: {p}-archive}}
"""


def test_removed_resources_are_dropped_and_said(cloud: LocalCloud, tmp_path: Path) -> None:
    prefix = f"drop-{uuid.uuid4().hex[:6]}"
    full = tmp_path / "full" / "template.yaml"
    full.parent.mkdir()
    full.write_text(TEMPLATE.format(p=prefix))
    record = tmp_path / "provisioned.json"
    sqs, ddb, s3 = (aws_client(cloud, name) for name in ("sqs", "dynamodb", "s3"))
    sqs.create_queue(QueueName=f"{prefix}-by-hand")  # not the template's

    first = load_template(full, endpoint=cloud.aws_url)
    assert drop_removed(first, cloud.aws_url, record) == []  # nothing provisioned before
    bootstrap(first, cloud.aws_url)
    assert drop_removed(first, cloud.aws_url, record) == []  # same template: nothing goes

    shrunk = tmp_path / "shrunk" / "template.yaml"
    shrunk.parent.mkdir()
    kept_part = TEMPLATE.format(p=prefix).split("  Ledger:")[0]  # only the queue stays
    shrunk.write_text(kept_part)
    lines = drop_removed(load_template(shrunk, endpoint=cloud.aws_url), cloud.aws_url, record)
    assert sorted(lines) == [
        f"dropped table {prefix}-ledger (not in the template any more)",
        f"kept bucket {prefix}-archive (not in the template; DeletionPolicy: Retain)"]
    assert f"{prefix}-ledger" not in ddb.list_tables()["TableNames"]
    assert f"{prefix}-archive" in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    queues = {u.rsplit("/", 1)[-1] for u in sqs.list_queues(QueueNamePrefix=prefix)["QueueUrls"]}
    assert queues == {f"{prefix}-jobs", f"{prefix}-by-hand"}
