"""Creates every AWS resource the template declares in the local AWS endpoint (moto/LocalStack).

Tables, buckets (and their notification configuration), queues (and redrive policies),
topics and subscriptions, event buses and rules with their SQS/SNS targets. Idempotent: a
second run changes nothing. There is no hand-kept list: the template is the source.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from localcloud.template import Resource, Template

LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def local_client(service: str, endpoint: str, region: str) -> Any:
    import boto3

    from edu.adapters.local_signing import sign_locally_with_placeholders

    client = boto3.client(service, endpoint_url=endpoint,  # type: ignore[call-overload]
                          region_name=region, **LOCAL_CREDENTIALS)
    sign_locally_with_placeholders(client, endpoint, placeholder_signature_wanted())
    return client


def placeholder_signature_wanted() -> bool:
    """`EDU_AWS_PLACEHOLDER_SIGNATURE` as the functions' settings read it, from settings made
    for this call: `edu.config.get_settings()` caches them once per process, and this process
    exports the stack's URLs for its domain helpers only later."""
    from edu.config import Settings

    return Settings().aws_placeholder_signature


@dataclass
class BootstrapReport:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)

    def add(self, kind: str, name: str, created: bool) -> None:
        (self.created if created else self.existing).append(f"{kind} {name}")


def bootstrap(template: Template, endpoint: str) -> BootstrapReport:
    report = BootstrapReport()
    region = template.region
    _queues(template, local_client("sqs", endpoint, region), report)
    _topics(template, local_client("sns", endpoint, region), report)
    _tables(template, local_client("dynamodb", endpoint, region), report)
    _buckets(template, local_client("s3", endpoint, region), report)
    _events(template, local_client("events", endpoint, region), report)
    _secrets(template, local_client("secretsmanager", endpoint, region), report)
    _parameters(template, local_client("ssm", endpoint, region), report)
    _ses(template, local_client("ses", endpoint, region), report)
    return report


def _ses(template: Template, ses: Any, report: BootstrapReport) -> None:
    existing = set(ses.list_identities().get("Identities", []))
    for identity in template.of_type("AWS::SES::EmailIdentity"):
        address = str(identity.properties["EmailIdentity"])
        if address not in existing:
            ses.verify_email_identity(EmailAddress=address)  # moto verifies at once
        report.add("email identity", address, address not in existing)


# --- SSM Parameter Store -----------------------------------------------------------------


def _parameters(template: Template, ssm: Any, report: BootstrapReport) -> None:
    """Writes each AWS::SSM::Parameter with its value in this template: unlike a secret's, a
    parameter's value is configuration the template decides (CloudFormation overwrites it on
    every deploy), such as the stack's public URLs."""
    existing = {p["Name"] for page in ssm.get_paginator("describe_parameters").paginate()
                for p in page["Parameters"]}
    for param in template.of_type("AWS::SSM::Parameter"):
        name = str(param.properties.get("Name") or param.physical_name)
        ssm.put_parameter(Name=name, Value=str(param.properties["Value"]),
                          Type=str(param.properties.get("Type", "String")), Overwrite=True)
        report.add("parameter", name, name not in existing)


# --- Secrets Manager -------------------------------------------------------------------


TEMPLATE_VALUE_TAG = "edu:template-value"  # a digest of the SecretString last applied


def _secrets(template: Template, sm: Any, report: BootstrapReport) -> None:
    """Creates missing secrets with the template's initial value, and, as a CloudFormation
    update does, puts a new value only when the template's SecretString changed: values
    written since (rotated keys) survive a re-run, a changed DatabaseUrl reaches its secret."""
    import hashlib
    import secrets as random_secrets

    existing = {s["Name"]: {t["Key"]: t["Value"] for t in s.get("Tags") or []}
                for s in sm.list_secrets().get("SecretList", [])}
    for sec in template.of_type("AWS::SecretsManager::Secret"):
        value = sec.properties.get("SecretString")
        digest = hashlib.sha256(str(value).encode()).hexdigest() if value is not None else ""
        tags = [{"Key": TEMPLATE_VALUE_TAG, "Value": digest}] if digest else []
        if sec.physical_name in existing:
            changed = digest and existing[sec.physical_name].get(TEMPLATE_VALUE_TAG) != digest
            if changed:
                sm.put_secret_value(SecretId=sec.physical_name, SecretString=str(value))
                sm.tag_resource(SecretId=sec.physical_name, Tags=tags)
            report.add("secret", sec.physical_name, bool(changed))
            continue
        generate = sec.properties.get("GenerateSecretString")
        if value is None and generate is not None:
            length = int(generate.get("PasswordLength", 32))
            generated = random_secrets.token_urlsafe(length)[:length]
            if generate.get("SecretStringTemplate") and generate.get("GenerateStringKey"):
                doc = json.loads(generate["SecretStringTemplate"])
                doc[generate["GenerateStringKey"]] = generated
                value = json.dumps(doc)
            else:
                value = generated
        sm.create_secret(Name=sec.physical_name, SecretString=str(value or ""), Tags=tags)
        report.add("secret", sec.physical_name, True)


# --- SQS -------------------------------------------------------------------------------

_QUEUE_ATTRS = {
    "VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "MaximumMessageSize",
    "ReceiveMessageWaitTimeSeconds", "FifoQueue", "ContentBasedDeduplication",
}


def _queues(template: Template, sqs: Any, report: BootstrapReport) -> None:
    queues = template.of_type("AWS::SQS::Queue")
    existing = set(sqs.list_queues().get("QueueUrls", []))
    urls: dict[str, str] = {}
    for q in queues:  # create all first: redrive targets must exist
        attrs = {k: _attr(v) for k, v in q.properties.items() if k in _QUEUE_ATTRS}
        url = sqs.create_queue(QueueName=q.physical_name, Attributes=attrs)["QueueUrl"]
        urls[q.logical_id] = url
        report.add("queue", q.physical_name, url not in existing)
    for q in queues:
        redrive = q.properties.get("RedrivePolicy")
        if redrive:
            sqs.set_queue_attributes(QueueUrl=urls[q.logical_id],
                                     Attributes={"RedrivePolicy": json.dumps(redrive)})


def _attr(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- SNS -------------------------------------------------------------------------------


def _topics(template: Template, sns: Any, report: BootstrapReport) -> None:
    existing = {t["TopicArn"].rsplit(":", 1)[-1] for t in sns.list_topics().get("Topics", [])}
    for t in template.of_type("AWS::SNS::Topic"):
        arn = sns.create_topic(Name=t.physical_name)["TopicArn"]
        report.add("topic", t.physical_name, t.physical_name not in existing)
        for sub in t.properties.get("Subscription") or []:
            _subscribe(sns, arn, sub["Protocol"], sub["Endpoint"])
    for s in template.of_type("AWS::SNS::Subscription"):
        attrs = {}
        if s.properties.get("RawMessageDelivery") is not None:
            attrs["RawMessageDelivery"] = _attr(s.properties["RawMessageDelivery"])
        if s.properties.get("FilterPolicy") is not None:
            attrs["FilterPolicy"] = json.dumps(s.properties["FilterPolicy"])
        _subscribe(sns, s.properties["TopicArn"], s.properties["Protocol"],
                   s.properties["Endpoint"], attrs)


def _subscribe(sns: Any, topic_arn: str, protocol: str, endpoint: str,
               attrs: dict[str, str] | None = None) -> None:
    if protocol == "lambda":
        return  # the local runtime delivers to functions itself
    sns.subscribe(TopicArn=topic_arn, Protocol=protocol, Endpoint=endpoint,
                  Attributes=attrs or {}, ReturnSubscriptionArn=True)


# --- DynamoDB ----------------------------------------------------------------------------


def _tables(template: Template, ddb: Any, report: BootstrapReport) -> None:
    existing = set(ddb.list_tables().get("TableNames", []))
    for t in template.of_type("AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable"):
        if t.physical_name in existing:
            report.add("table", t.physical_name, False)
            continue
        ddb.create_table(**_table_spec(t))
        ttl = t.properties.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            ddb.update_time_to_live(TableName=t.physical_name, TimeToLiveSpecification={
                "Enabled": True, "AttributeName": ttl["AttributeName"]})
        report.add("table", t.physical_name, True)


def _table_spec(t: Resource) -> dict[str, Any]:
    p = t.properties
    if t.type == "AWS::Serverless::SimpleTable":
        pk = p.get("PrimaryKey") or {"Name": "id", "Type": "String"}
        type_code = {"String": "S", "Number": "N", "Binary": "B"}[pk.get("Type", "String")]
        return {"TableName": t.physical_name, "BillingMode": "PAY_PER_REQUEST",
                "KeySchema": [{"AttributeName": pk["Name"], "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": pk["Name"],
                                          "AttributeType": type_code}]}
    spec: dict[str, Any] = {
        "TableName": t.physical_name,
        "KeySchema": p["KeySchema"],
        "AttributeDefinitions": p["AttributeDefinitions"],
        "BillingMode": p.get("BillingMode", "PROVISIONED"),
    }
    if spec["BillingMode"] == "PROVISIONED":
        spec["ProvisionedThroughput"] = p.get("ProvisionedThroughput") or {
            "ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if p.get(key):
            spec[key] = [{k: v for k, v in idx.items()
                          if k in ("IndexName", "KeySchema", "Projection",
                                   "ProvisionedThroughput")} for idx in p[key]]
    if p.get("StreamSpecification"):
        spec["StreamSpecification"] = {"StreamEnabled": True, **p["StreamSpecification"]}
    return spec


# --- S3 ------------------------------------------------------------------------------------


# CloudFormation's CorsRule names -> the S3 API's
_CORS_NAMES = {"Id": "ID", "MaxAge": "MaxAgeSeconds", "ExposedHeaders": "ExposeHeaders"}


def cors_rule(rule: dict[str, Any]) -> dict[str, Any]:
    return {_CORS_NAMES.get(key, key): value for key, value in rule.items()}


def _buckets(template: Template, s3: Any, report: BootstrapReport) -> None:
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for b in template.of_type("AWS::S3::Bucket"):
        if b.physical_name not in existing:
            s3.create_bucket(Bucket=b.physical_name)
        report.add("bucket", b.physical_name, b.physical_name not in existing)
        if b.properties.get("CorsConfiguration"):
            s3.put_bucket_cors(Bucket=b.physical_name, CORSConfiguration={"CORSRules": [
                cors_rule(rule) for rule in b.properties["CorsConfiguration"]["CorsRules"]]})
        notif = b.properties.get("NotificationConfiguration")
        if notif:
            s3.put_bucket_notification_configuration(
                Bucket=b.physical_name,
                NotificationConfiguration=_notification_config(notif))


def _notification_config(notif: dict[str, Any]) -> dict[str, Any]:
    def filt(cfg: dict[str, Any]) -> dict[str, Any]:
        rules = ((cfg.get("Filter") or {}).get("S3Key") or {}).get("Rules") or []
        if not rules:
            return {}
        return {"Filter": {"Key": {"FilterRules": [
            {"Name": r["Name"], "Value": r["Value"]} for r in rules]}}}

    out: dict[str, Any] = {}
    queues = [{"QueueArn": c["Queue"], "Events": [c["Event"]], **filt(c)}
              for c in notif.get("QueueConfigurations") or []]
    topics = [{"TopicArn": c["Topic"], "Events": [c["Event"]], **filt(c)}
              for c in notif.get("TopicConfigurations") or []]
    if queues:
        out["QueueConfigurations"] = queues
    if topics:
        out["TopicConfigurations"] = topics
    return out


# --- EventBridge ------------------------------------------------------------------------------


def _events(template: Template, events: Any, report: BootstrapReport) -> None:
    existing = {b["Name"] for b in events.list_event_buses().get("EventBuses", [])}
    for bus_res in template.of_type("AWS::Events::EventBus"):
        if bus_res.physical_name not in existing:
            events.create_event_bus(Name=bus_res.physical_name)
        report.add("event bus", bus_res.physical_name, bus_res.physical_name not in existing)
    rules: dict[str, set[str]] = {}
    for rule in template.of_type("AWS::Events::Rule"):
        p = rule.properties
        bus = str(p.get("EventBusName", "default")).rsplit("/", 1)[-1]
        if bus not in rules:
            rules[bus] = {r["Name"] for r in events.list_rules(EventBusName=bus).get("Rules", [])}
        kwargs: dict[str, Any] = {"Name": rule.physical_name, "EventBusName": bus,
                                  "State": p.get("State", "ENABLED")}
        if p.get("EventPattern"):
            kwargs["EventPattern"] = json.dumps(p["EventPattern"])
        if p.get("ScheduleExpression"):
            kwargs["ScheduleExpression"] = p["ScheduleExpression"]
        events.put_rule(**kwargs)
        targets = [{"Id": t["Id"], "Arn": t["Arn"],
                    **({"Input": t["Input"]} if "Input" in t else {})}
                   for t in p.get("Targets") or [] if ":lambda:" not in str(t.get("Arn"))]
        if targets:
            events.put_targets(Rule=rule.physical_name, EventBusName=bus, Targets=targets)
        report.add("rule", rule.physical_name, rule.physical_name not in rules[bus])


def sent_emails(endpoint: str) -> list[dict[str, Any]]:
    """Mail sent through moto's SES (moto keeps it; real SES would deliver it)."""
    import urllib.request

    with urllib.request.urlopen(endpoint.rstrip("/") + "/moto-api/data.json",
                                timeout=10) as resp:
        data = json.loads(resp.read())
    messages = data.get("ses", {}).get("Message") or []
    return [{"id": m.get("id"), "from": m.get("source"), "subject": m.get("subject"),
             "to": list((m.get("destinations") or {}).get("ToAddresses") or []),
             "body": m.get("body", "")} for m in messages]
