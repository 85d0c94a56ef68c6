"""Sample events for `edu local invoke -e -` (SAM: `sam local generate-event`): each shaped
as the AWS service sends it, with names and ARNs taken from the template when a flag names
one of its logical ids. API events are built by the local gateway's own builders for a route
of the template, so they are exactly what `edu up` would pass."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from localcloud.intrinsics import ACCOUNT_ID
from localcloud.template import Template

Options = dict[str, str]


def _now() -> datetime:
    return datetime.now(UTC)


def _name(template: Template, given: str) -> str:
    """A resource's physical name when `given` is one of the template's logical ids."""
    resource = template.resources.get(given)
    return resource.physical_name if resource is not None else given


def _api(template: Template, options: Options, version: str) -> dict[str, Any]:
    from localcloud.runtime.gateway import build_event_v1, build_event_v2, build_routes, match

    method, path = options.get("method", "GET").upper(), options.get("path", "/")
    routes = [r for r in build_routes(template) if r.payload_version.startswith(version)]
    found = match(routes, method, path)
    if found is None:
        known = ", ".join(sorted({r.route_key for r in routes})) or "none"
        raise ValueError(f"no {'HTTP API' if version == '2' else 'REST API'} route of the "
                         f"template takes {method} {path} (routes: {known})")
    route, params = found
    query = options.get("query", "")
    scope = {"method": method, "path": path, "query_string": query.encode(),
             "client": ("127.0.0.1", 0), "http_version": "1.1"}
    body = options.get("body", "").encode()
    headers = [(b"host", b"127.0.0.1:3000"), (b"content-type", b"application/json")]
    build = build_event_v2 if version == "2" else build_event_v1
    return build(route, scope, headers, body, params, str(uuid.uuid4()))


def _s3(template: Template, options: Options, name: str) -> dict[str, Any]:
    bucket, key = _name(template, options.get("bucket", "example-bucket")), options.get(
        "key", "test/key")
    obj: dict[str, Any] = {"key": key, "sequencer": "0A1B2C3D4E5F678901"}
    if name == "ObjectCreated:Put":
        obj.update(size=1024, eTag=hashlib.md5(key.encode()).hexdigest())
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": template.region,
        "eventTime": _now().strftime("%Y-%m-%dT%H:%M:%S.000Z"), "eventName": name,
        "userIdentity": {"principalId": "EXAMPLE"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": uuid.uuid4().hex[:16].upper(),
                             "x-amz-id-2": uuid.uuid4().hex},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "edu-local",
               "bucket": {"name": bucket, "ownerIdentity": {"principalId": "EXAMPLE"},
                          "arn": f"arn:aws:s3:::{bucket}"},
               "object": obj}}]}


def _sqs(template: Template, options: Options) -> dict[str, Any]:
    from localcloud.runtime.sqs_mapping import sqs_record

    queue = _name(template, options.get("queue", "example-queue"))
    body = options.get("body", "Hello from SQS!")
    sent = str(int(_now().timestamp() * 1000))
    message = {"MessageId": str(uuid.uuid4()), "ReceiptHandle": uuid.uuid4().hex, "Body": body,
               "MD5OfBody": hashlib.md5(body.encode()).hexdigest(),
               "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": sent,
                              "SenderId": ACCOUNT_ID, "ApproximateFirstReceiveTimestamp": sent}}
    arn = f"arn:aws:sqs:{template.region}:{ACCOUNT_ID}:{queue}"
    return {"Records": [sqs_record(message, arn, template.region)]}


def _sns(template: Template, options: Options) -> dict[str, Any]:
    topic = _name(template, options.get("topic", "example-topic"))
    arn = f"arn:aws:sns:{template.region}:{ACCOUNT_ID}:{topic}"
    return {"Records": [{
        "EventSource": "aws:sns", "EventVersion": "1.0",
        "EventSubscriptionArn": f"{arn}:{uuid.uuid4()}",
        "Sns": {"Type": "Notification", "MessageId": str(uuid.uuid4()), "TopicArn": arn,
                "Subject": options.get("subject", "example subject"),
                "Message": options.get("message", "example message"),
                "Timestamp": _now().strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "SignatureVersion": "1", "Signature": "EXAMPLE",
                "SigningCertUrl": "https://sns.amazonaws.com/example.pem",
                "UnsubscribeUrl": "https://sns.amazonaws.com/?Action=Unsubscribe",
                "MessageAttributes": {}}}]}


def _eventbridge(template: Template, options: Options, scheduled: bool) -> dict[str, Any]:
    rule = f"arn:aws:events:{template.region}:{ACCOUNT_ID}:rule/" + options.get(
        "rule", "example-rule")
    return {"version": "0", "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event" if scheduled else options.get(
                "detail-type", "example.happened"),
            "source": "aws.events" if scheduled else options.get("source", "example.app"),
            "account": ACCOUNT_ID, "time": _now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": template.region, "resources": [rule] if scheduled else [],
            "detail": {} if scheduled else json.loads(options.get("detail", "{}"))}


def _dynamodb(template: Template, options: Options) -> dict[str, Any]:
    table = _name(template, options.get("table", "example-table"))
    keys = json.loads(options.get("keys", '{"id": {"S": "1"}}'))
    new = {**keys, **json.loads(options.get("new-image", '{"value": {"S": "new"}}'))}
    old = {**keys, **json.loads(options.get("old-image", '{"value": {"S": "old"}}'))}
    arn = (f"arn:aws:dynamodb:{template.region}:{ACCOUNT_ID}:table/{table}/stream/"
           f"{_now().strftime('%Y-%m-%dT%H:%M:%S.000')}")
    return {"Records": [{
        "eventID": uuid.uuid4().hex, "eventName": "MODIFY", "eventVersion": "1.1",
        "eventSource": "aws:dynamodb", "awsRegion": template.region,
        "dynamodb": {"ApproximateCreationDateTime": int(_now().timestamp()), "Keys": keys,
                     "NewImage": new, "OldImage": old, "SequenceNumber": "111",
                     "SizeBytes": len(json.dumps(new)), "StreamViewType": "NEW_AND_OLD_IMAGES"},
        "eventSourceARN": arn}]}


# service -> event -> (what it is, its flags, the builder)
EVENTS: dict[str, dict[str, tuple[str, tuple[str, ...], Callable[[Template, Options],
                                                                  dict[str, Any]]]]] = {
    "apigateway": {
        "http-api-proxy": ("HTTP API (payload 2.0) request to a route of the template",
                           ("method", "path", "query", "body"),
                           lambda t, o: _api(t, o, "2")),
        "aws-proxy": ("REST API (payload 1.0) request to a route of the template",
                      ("method", "path", "query", "body"), lambda t, o: _api(t, o, "1"))},
    "s3": {"put": ("object created", ("bucket", "key"),
                   lambda t, o: _s3(t, o, "ObjectCreated:Put")),
           "delete": ("object deleted", ("bucket", "key"),
                      lambda t, o: _s3(t, o, "ObjectRemoved:Delete"))},
    "sqs": {"receive-message": ("a message an SQS mapping delivers", ("queue", "body"), _sqs)},
    "sns": {"notification": ("a topic's notification", ("topic", "subject", "message"), _sns)},
    "eventbridge": {
        "scheduled-event": ("a schedule's event", ("rule",),
                            lambda t, o: _eventbridge(t, o, scheduled=True)),
        "custom": ("an event put on a bus", ("source", "detail-type", "detail"),
                   lambda t, o: _eventbridge(t, o, scheduled=False))},
    "dynamodb": {"update": ("a stream record of an item's change",
                            ("table", "keys", "new-image", "old-image"), _dynamodb)},
}


def generate(template: Template, service: str, event: str, options: Options) -> dict[str, Any]:
    """The event, or ValueError naming what is wrong (unknown service, event or flag)."""
    if service not in EVENTS:
        raise ValueError(f"unknown service {service!r} (services: {', '.join(EVENTS)})")
    if event not in EVENTS[service]:
        raise ValueError(f"unknown {service} event {event!r} "
                         f"(events: {', '.join(EVENTS[service])})")
    _about, flags, build = EVENTS[service][event]
    unknown = sorted(set(options) - set(flags))
    if unknown:
        raise ValueError(f"{service} {event} takes --{', --'.join(flags)}; not --"
                         f"{', --'.join(unknown)}")
    return build(template, options)
