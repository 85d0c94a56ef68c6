"""Notifications through the local runtime: bus -> rule -> queue -> consumer -> SES."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx

from edu.adapters.sqs_backoff import retry_span_s
from localcloud.chaos import CONSUMER_RECEIVES
from localcloud.stack import LocalCloud
from tests.conftest import TEST_RETRY_BASE_S
from tests.support.aws import aws_client
from tests.support.events import mail_to
from tests.support.identity import bearer, login, register
from tests.support.platform import RunningPlatform


def sqs(cloud: LocalCloud) -> Any:
    return aws_client(cloud, "sqs")


def as_bus_event(envelope: dict[str, Any]) -> str:
    """The body EventBridge puts on the consumer queue."""
    return json.dumps({"version": "0", "id": str(uuid.uuid4()), "detail-type":
                       envelope["type"], "source": envelope["source"], "account":
                       "123456789012", "time": envelope["occurred_at"],
                       "region": "us-east-1", "resources": [], "detail": envelope})


def envelope(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "type": event_type, "version": 1,
            "occurred_at": "2026-11-26T10:00:00.000Z", "source": "edu.test", "data": data}


def test_registration_sends_one_welcome_email(platform: RunningPlatform,
                                              cloud: LocalCloud) -> None:
    user = register(platform.api, role="teacher")
    (mail,) = mail_to(cloud, user["email"])
    assert mail["subject"] == f"Welcome to EduPlatform, {user['full_name']}"
    assert "verification" in mail["body"]
    time.sleep(2)
    assert len(mail_to(cloud, user["email"], timeout=0)) == 1


def test_mail_viewer_under_the_local_gateway(platform: RunningPlatform,
                                            cloud: LocalCloud) -> None:
    user = register(platform.api, full_name="Grace <b>Hopper</b>")
    mail_to(cloud, user["email"])
    inbox = httpx.get(f"{platform.api}/_edu/mail", params={"to": user["email"]}, timeout=30)
    assert inbox.status_code == 200 and inbox.headers["content-type"].startswith("text/html")
    assert "Sent mail (1)" in inbox.text
    assert "Welcome to EduPlatform, Grace &lt;b&gt;Hopper&lt;/b&gt;" in inbox.text  # escaped
    number = inbox.text.split('href="/_edu/mail/')[1].split('"')[0]
    message = httpx.get(f"{platform.api}/_edu/mail/{number}", timeout=30)
    assert message.status_code == 200 and user["email"] in message.text
    assert "script-src" not in message.headers["content-security-policy"]  # none at all
    assert httpx.get(f"{platform.api}/_edu/mail/999999", timeout=30).status_code == 404


def test_redelivered_event_sends_one_email(platform: RunningPlatform,
                                           cloud: LocalCloud) -> None:
    user = register(platform.api)
    mail_to(cloud, user["email"])  # the welcome email
    url = sqs(cloud).get_queue_url(QueueName="edu-platform-notifications")["QueueUrl"]
    event = envelope("enrollment.created", {
        "enrollment_id": "e1", "user_id": user["id"], "course_id": "c1",
        "course_title": "Redelivery 101", "teacher_id": "t1", "source": "free"})
    for _ in range(3):  # at-least-once delivery: the same event arrives three times
        sqs(cloud).send_message(QueueUrl=url, MessageBody=as_bus_event(event))
    mails = mail_to(cloud, user["email"], count=2)
    time.sleep(3)
    enrolled = [m for m in mail_to(cloud, user["email"], timeout=0)
                if "Redelivery 101" in m["subject"]]
    assert len(mails) >= 2 and len(enrolled) == 1


def test_one_poison_message_in_a_batch_goes_to_the_dlq_alone(platform: RunningPlatform,
                                                              cloud: LocalCloud) -> None:
    user = register(platform.api)
    client = sqs(cloud)
    url = client.get_queue_url(QueueName="edu-platform-notifications")["QueueUrl"]
    dlq = client.get_queue_url(QueueName="edu-platform-notifications-dlq")["QueueUrl"]
    good = [envelope("enrollment.created", {
        "enrollment_id": f"e{i}", "user_id": user["id"], "course_id": f"c{i}",
        "course_title": f"Batch course {i}", "teacher_id": "t", "source": "free"})
        for i in range(2)]
    poison = envelope("enrollment.created", {
        "enrollment_id": "ex", "user_id": f"ghost-{uuid.uuid4().hex[:6]}", "course_id": "cx",
        "course_title": "Nobody", "teacher_id": "t", "source": "free"})
    client.send_message_batch(QueueUrl=url, Entries=[
        {"Id": str(i), "MessageBody": as_bus_event(e)} for i, e in enumerate([*good, poison])])
    # The poison message is tried on each of its receives, the backoff between them
    # doubling, before SQS moves it: wait that long plus room for polls and batch windows.
    deadline = time.monotonic() + retry_span_s(CONSUMER_RECEIVES, TEST_RETRY_BASE_S) + 45
    parked: list[dict[str, Any]] = []
    while not parked and time.monotonic() < deadline:
        msgs = client.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10,
                                      WaitTimeSeconds=1, VisibilityTimeout=0
                                      ).get("Messages", [])
        parked = [m for m in msgs if poison["id"] in m["Body"]]
    assert parked, platform.log_tail()
    subjects = [m["subject"] for m in mail_to(cloud, user["email"], count=3)]
    assert sorted(s for s in subjects if "Batch course" in s) == [
        "You are enrolled in Batch course 0", "You are enrolled in Batch course 1"]


def test_opt_out_stops_non_transactional_email(platform: RunningPlatform,
                                               cloud: LocalCloud) -> None:
    api = platform.api
    user = register(api)
    token = login(api, user["email"])["access_token"]
    resp = httpx.patch(f"{api}/me/notifications", json={"marketing_emails": False},
                       headers=bearer(token))
    assert resp.status_code == 200 and resp.json()["marketing_emails"] is False
    assert httpx.patch(f"{api}/me/notifications", json={"marketing_emails": "no"},
                       headers=bearer(token)).status_code == 422
    url = sqs(cloud).get_queue_url(QueueName="edu-platform-notifications")["QueueUrl"]
    completed = envelope("course.completed", {"user_id": user["id"], "course_id": "c",
                                              "teacher_id": "t", "course_title": "Optout"})
    receipt = envelope("payment.succeeded", {
        "payment_id": "p1", "user_id": user["id"], "course_id": "c", "teacher_id": "t",
        "amount": 1999, "currency": "usd", "provider_ref": "pi_1"})
    for event in (completed, receipt):
        sqs(cloud).send_message(QueueUrl=url, MessageBody=as_bus_event(event))
    mails = mail_to(cloud, user["email"], count=2)
    time.sleep(3)
    subjects = [m["subject"] for m in mail_to(cloud, user["email"], timeout=0)]
    assert "Your receipt: 19.99 USD" in subjects and len(mails) >= 2
    assert not any("Optout" in s for s in subjects)
