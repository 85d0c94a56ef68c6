"""moto's PutEvents with each event parsed and flattened once and SQS targets fed directly
(`install_light_event_delivery`) delivers exactly what moto's own path does: two servers
(`EDU_MOTO_EVENT_DELIVERY=0` and `1`) get the same rules, targets and events and must answer
the same entries and put the same message bodies in the same order in every queue — plain
SQS targets, an InputTransformer target, two targets on one rule, patterns on the detail,
a rule that matches nothing, a detail that is not an object and invalid entries."""

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

from localcloud.backing import aws_endpoint_healthy
from localcloud.procs import free_port, wait_until

QUEUES = ("plain", "by-course", "shaped", "second", "never")
RULES: list[tuple[str, dict[str, Any], list[dict[str, Any]]]] = [
    ("types", {"detail-type": ["enrollment.created", "course.completed"]},
     [{"Id": "q", "Queue": "plain"}, {"Id": "q2", "Queue": "second"}]),
    ("course-prefix", {"detail": {"data": {"course_id": [{"prefix": "c-"}]}}},
     [{"Id": "q", "Queue": "by-course"}]),
    ("shaped", {"source": ["edu.enrollment"]},
     [{"Id": "q", "Queue": "shaped", "InputTransformer": {
         "InputPathsMap": {"kind": "$.detail-type", "user": "$.detail.data.user_id"},
         "InputTemplate": '{"kind": "<kind>", "user": "<user>"}'}}]),
    ("nothing", {"detail-type": ["never.sent"]}, [{"Id": "q", "Queue": "never"}]),
]
AT = datetime(2026, 12, 4, 12, 30, 5, tzinfo=UTC)


def entry(detail_type: str, detail: Any, source: str = "edu.enrollment") -> dict[str, Any]:
    return {"Source": source, "DetailType": detail_type, "EventBusName": "default",
            "Time": AT, "Detail": detail if isinstance(detail, str) else json.dumps(detail)}


CALLS = [
    [entry("enrollment.created", {"id": "e1", "data": {"user_id": "u1", "course_id": "c-1",
                                                       "title": "Ünïcode — \"quoted\""}}),
     entry("course.completed", {"id": "e2", "data": {"user_id": "u2", "course_id": "x-2"}},
           source="edu.progress"),
     entry("lesson.completed", {"id": "e3", "data": {"course_id": "c-3", "n": 1.5,
                                                     "tags": ["a", {"b": None}]}})],
    [entry("enrollment.created", {"id": "e4", "data": {}}),
     {"Source": "", "DetailType": "enrollment.created", "Detail": "{}"}],  # invalid entry
    [entry("enrollment.created", "[1, 2]")],  # a detail that is not an object
    [entry("enrollment.created", "{not json")],
]


def server(delivery: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "localcloud.moto_server", "-H", "127.0.0.1",
                             "-p", str(port)],
                            env={**os.environ, "EDU_MOTO_EVENT_DELIVERY": delivery},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: aws_endpoint_healthy(url, 0.5), timeout=30, what="moto", proc=proc)
    return proc, url


def client(url: str, service: str) -> Any:
    return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="x", aws_secret_access_key="x",
                        config=Config(retries={"max_attempts": 1}))


@pytest.fixture(scope="module")
def deliveries() -> Iterator[dict[str, dict[str, Any]]]:
    """Per server: PutEvents answers and each queue's message bodies, event ids replaced."""
    procs, out = [], {}
    try:
        for delivery in ("0", "1"):
            proc, url = server(delivery)
            procs.append(proc)
            out[delivery] = deliver(url)
        yield out
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)


def deliver(url: str) -> dict[str, Any]:
    sqs, events = client(url, "sqs"), client(url, "events")
    queues = {name: sqs.create_queue(QueueName=name)["QueueUrl"] for name in QUEUES}
    arns = {name: sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["QueueArn"])
            ["Attributes"]["QueueArn"] for name, u in queues.items()}
    for name, pattern, targets in RULES:
        events.put_rule(Name=name, EventPattern=json.dumps(pattern))
        events.put_targets(Rule=name, Targets=[
            {"Arn": arns[t["Queue"]], **{k: v for k, v in t.items() if k != "Queue"}}
            for t in targets])
    answers, ids = [], {}
    for call in CALLS:
        answer = events.put_events(Entries=call)
        answer.pop("ResponseMetadata")
        for got in answer["Entries"]:
            if "EventId" in got:
                stable = ids[got["EventId"]] = f"event-{len(ids)}"
                got["EventId"] = stable
        answers.append(answer)
    bodies: dict[str, list[str]] = {}
    for name, queue in queues.items():
        got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        bodies[name] = []
        for message in got:
            body = message["Body"]
            for event_id, stable in ids.items():
                body = body.replace(event_id, stable)
            bodies[name].append(body)
    return {"answers": answers, "bodies": bodies}


def test_answers_are_the_same(deliveries: dict[str, dict[str, Any]]) -> None:
    assert deliveries["1"]["answers"] == deliveries["0"]["answers"]
    errors = [e for a in deliveries["0"]["answers"] for e in a["Entries"] if "ErrorCode" in e]
    assert errors, "the invalid entries must be refused"


def test_every_queue_gets_the_same_bodies_in_the_same_order(
        deliveries: dict[str, dict[str, Any]]) -> None:
    moto, light = deliveries["0"]["bodies"], deliveries["1"]["bodies"]
    assert light == moto
    assert len(moto["plain"]) == len(moto["second"]) >= 3 and moto["never"] == []
    assert len(moto["by-course"]) == 2 and len(moto["shaped"]) >= 3
    first = json.loads(moto["plain"][0])
    assert first["detail"]["data"]["title"] == "Ünïcode — \"quoted\""
    assert first["time"] == "2026-12-04T12:30:05Z"
    # every field of AWS's event shape (moto left `account` out; Powertools requires it)
    assert set(first) == {"version", "id", "detail-type", "source", "account", "time",
                          "region", "resources", "detail"}
    assert first["account"] == "123456789012" and first["region"] == "us-east-1"
    assert json.loads(moto["shaped"][0]) == {"kind": "enrollment.created", "user": "u1"}
