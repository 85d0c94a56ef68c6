"""What the template provisioned last time, so that a resource it no longer declares is
dropped on the next `edu up` and said so, as a CloudFormation update deletes it (or keeps it,
with DeletionPolicy: Retain). Only names this stack provisioned are ever dropped: a queue a
test or a script made by hand is not the template's to remove."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from localcloud.aws import local_client
from localcloud.template import Template

# resource type -> the kind named in reports
KINDS = {"AWS::DynamoDB::Table": "table", "AWS::Serverless::SimpleTable": "table",
         "AWS::SQS::Queue": "queue", "AWS::SNS::Topic": "topic", "AWS::S3::Bucket": "bucket",
         "AWS::Events::Rule": "rule", "AWS::SecretsManager::Secret": "secret",
         "AWS::SSM::Parameter": "parameter"}


def declared(template: Template) -> dict[str, dict[str, Any]]:
    """name -> {kind, retain, bus} of every resource the template declares that we make."""
    out: dict[str, dict[str, Any]] = {}
    for res in template.resources.values():
        kind = KINDS.get(res.type)
        if kind is None:
            continue
        entry: dict[str, Any] = {"kind": kind, "retain": res.retain}
        if kind == "rule":
            entry["bus"] = str(res.properties.get("EventBusName", "default")).rsplit("/", 1)[-1]
        out[f"{kind} {res.physical_name}"] = entry
    return out


def drop_removed(template: Template, endpoint: str, record: Path) -> list[str]:
    """Drops what the last provisioning made and this template no longer declares; records
    what this template declares. Returns a line per resource dropped or kept."""
    now = declared(template)
    before: dict[str, dict[str, Any]] = (json.loads(record.read_text())
                                         if record.exists() else {})
    lines = []
    for label, entry in before.items():
        if label in now:
            continue
        if entry.get("retain"):
            lines.append(f"kept {label} (not in the template; DeletionPolicy: Retain)")
            continue
        _drop(entry, label.split(" ", 1)[1], template.region, endpoint)
        lines.append(f"dropped {label} (not in the template any more)")
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(now, indent=1, sort_keys=True))
    return lines


def _drop(entry: dict[str, Any], name: str, region: str, endpoint: str) -> None:
    from botocore.exceptions import ClientError

    kind = entry["kind"]
    try:
        if kind == "table":
            local_client("dynamodb", endpoint, region).delete_table(TableName=name)
        elif kind == "queue":
            sqs = local_client("sqs", endpoint, region)
            sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"])
        elif kind == "topic":
            sns = local_client("sns", endpoint, region)
            for topic in sns.list_topics().get("Topics", []):
                if topic["TopicArn"].rsplit(":", 1)[-1] == name:
                    sns.delete_topic(TopicArn=topic["TopicArn"])
        elif kind == "bucket":
            s3 = local_client("s3", endpoint, region)
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
                keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
                if keys:
                    s3.delete_objects(Bucket=name, Delete={"Objects": keys})
            s3.delete_bucket(Bucket=name)
        elif kind == "rule":
            events = local_client("events", endpoint, region)
            bus = entry.get("bus", "default")
            targets = events.list_targets_by_rule(Rule=name, EventBusName=bus)["Targets"]
            if targets:
                events.remove_targets(Rule=name, EventBusName=bus,
                                      Ids=[t["Id"] for t in targets])
            events.delete_rule(Name=name, EventBusName=bus)
        elif kind == "secret":
            local_client("secretsmanager", endpoint, region).delete_secret(
                SecretId=name, ForceDeleteWithoutRecovery=True)
        elif kind == "parameter":
            local_client("ssm", endpoint, region).delete_parameter(Name=name)
    except ClientError as exc:  # already gone (dropped by hand): nothing left to drop
        code = exc.response.get("Error", {}).get("Code", "")
        if "NotFound" not in code and "NonExistent" not in code and "NoSuch" not in code:
            raise
