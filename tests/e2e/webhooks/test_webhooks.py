"""Outbound webhooks end to end: a real receiver on 127.0.0.1, real events from real
enrollments, signed POSTs, retries through SQS with backoff, the delivery log, manual
redelivery, auto-disable with an email, and SSRF refusals."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from localcloud.stack import LocalCloud
from tests.support.courses import published_course
from tests.support.events import mail_to
from tests.support.identity import bearer, login, register, verified_teacher
from tests.support.platform import RunningPlatform
from tests.support.webhooks import documented_verify


@dataclass
class Receiver:
    """An HTTP endpoint that answers with the scripted statuses, then 200."""

    url: str
    script: list[int] = field(default_factory=list)
    received: list[tuple[dict[str, str], bytes, int]] = field(default_factory=list)

    def wait_for(self, count: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(self.received) >= count, self.received


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            status = state.script.pop(0) if state.script else 200
            state.received.append(({k.lower(): v for k, v in self.headers.items()}, body,
                                   status))
            self.send_response(status)
            if status in (301, 302, 307):
                self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()


def subscribe(api: str, token: str, url: str, *events: str) -> dict[str, Any]:
    resp = httpx.post(f"{api}/teacher/webhooks", json={"url": url, "events": list(events)},
                      headers=bearer(token))
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    assert body["secret"].startswith("whsec_") and body["status"] == "active"
    return body


def enroll_someone(api: str, course_id: str) -> str:
    user = register(api)
    token = login(api, user["email"])["access_token"]
    assert httpx.post(f"{api}/courses/{course_id}/enroll",
                      headers=bearer(token)).status_code == 201
    return str(user["id"])


def deliveries(api: str, token: str, hook_id: str) -> list[dict[str, Any]]:
    resp = httpx.get(f"{api}/teacher/webhooks/{hook_id}/deliveries", headers=bearer(token))
    assert resp.status_code == 200, resp.text
    items: list[dict[str, Any]] = resp.json()["items"]
    return items


def until(check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def free_course(api: str, token: str) -> str:
    return str(published_course(api, token, price={"amount": 0, "currency": "usd"})["id"])


def test_a_receiver_failing_twice_gets_one_accepted_signed_delivery(
        platform: RunningPlatform, teacher: dict[str, Any], receiver: Receiver) -> None:
    api, token = platform.api, teacher["access_token"]
    course_id = free_course(api, token)
    hook = subscribe(api, token, receiver.url, "enrollment.created")
    receiver.script = [500, 503]
    student_id = enroll_someone(api, course_id)
    receiver.wait_for(3)
    until(lambda: deliveries(api, token, hook["id"])[0]["status"] == "succeeded")
    time.sleep(3)  # nothing more may arrive: the accepted delivery is final
    assert [status for _, _, status in receiver.received] == [500, 503, 200]
    verify = documented_verify()
    ids = set()
    for headers, body, _ in receiver.received:
        assert verify(hook["secret"], headers["edu-signature"], body)
        assert headers["edu-event"] == "enrollment.created"
        ids.add(headers["edu-delivery"])
        event = json.loads(body)
        assert event["type"] == "enrollment.created"
        assert event["data"]["user_id"] == student_id
        assert event["data"]["course_id"] == course_id
    (log,) = deliveries(api, token, hook["id"])
    assert ids == {log["id"]}  # the same delivery, retried
    assert (log["attempts"], log["last_status"], log["manual"]) == (3, 200, False)
    assert log["event_type"] == "enrollment.created"


def test_manual_redelivery_and_the_log_is_private(platform: RunningPlatform,
                                                  teacher: dict[str, Any],
                                                  receiver: Receiver, admin_token: str) -> None:
    api, token = platform.api, teacher["access_token"]
    hook = subscribe(api, token, receiver.url, "enrollment.created")
    enroll_someone(api, free_course(api, token))
    receiver.wait_for(1)
    until(lambda: deliveries(api, token, hook["id"])[0]["status"] == "succeeded")
    first = deliveries(api, token, hook["id"])[0]
    other = verified_teacher(api, admin_token)["access_token"]
    base = f"{api}/teacher/webhooks/{hook['id']}"
    assert httpx.get(f"{base}/deliveries", headers=bearer(other)).status_code == 404
    assert httpx.post(f"{base}/deliveries/{first['id']}/redeliver",
                      headers=bearer(other)).status_code == 404
    again = httpx.post(f"{base}/deliveries/{first['id']}/redeliver", headers=bearer(token))
    assert again.status_code == 202, again.text
    assert again.json()["manual"] is True and again.json()["id"] != first["id"]
    receiver.wait_for(2)
    assert json.loads(receiver.received[1][1])["id"] == json.loads(receiver.received[0][1])["id"]
    until(lambda: [d["status"] for d in deliveries(api, token, hook["id"])] == [
        "succeeded", "succeeded"])
    page = httpx.get(f"{base}/deliveries", params={"limit": 1}, headers=bearer(token)).json()
    rest = httpx.get(f"{base}/deliveries", params={"cursor": page["next_cursor"]},
                     headers=bearer(token)).json()
    assert [d["id"] for d in page["items"] + rest["items"]] == [again.json()["id"], first["id"]]
    assert httpx.get(f"{base}/deliveries", params={"cursor": "bogus"},
                     headers=bearer(token)).status_code == 400


def test_a_failing_endpoint_is_disabled_with_an_email(platform: RunningPlatform,
                                                      cloud: LocalCloud,
                                                      teacher: dict[str, Any],
                                                      receiver: Receiver) -> None:
    api, token = platform.api, teacher["access_token"]
    hook = subscribe(api, token, receiver.url, "enrollment.created")
    receiver.script = [500] * 3  # the test platform disables after 3 failures in a row
    enroll_someone(api, free_course(api, token))
    receiver.wait_for(3)

    def status() -> str:
        hooks = httpx.get(f"{api}/teacher/webhooks", headers=bearer(token)).json()["items"]
        return str(next(h for h in hooks if h["id"] == hook["id"])["status"])

    until(lambda: status() == "disabled")
    (mail,) = mail_to(cloud, teacher["email"], subject="Your webhook was disabled")
    assert receiver.url in str(mail)
    (log,) = deliveries(api, token, hook["id"])
    base = f"{api}/teacher/webhooks/{hook['id']}"
    assert httpx.post(f"{base}/deliveries/{log['id']}/redeliver",
                      headers=bearer(token)).status_code == 409
    enabled = httpx.patch(base, json={"status": "active"}, headers=bearer(token))
    assert enabled.status_code == 200 and enabled.json()["status"] == "active"
    assert httpx.post(f"{base}/deliveries/{log['id']}/redeliver",
                      headers=bearer(token)).status_code == 202
    until(lambda: deliveries(api, token, hook["id"])[0]["status"] == "succeeded")
    assert httpx.delete(base, headers=bearer(token)).status_code == 204
    assert httpx.get(f"{base}/deliveries", headers=bearer(token)).status_code == 404


def test_redirects_are_not_followed(platform: RunningPlatform, teacher: dict[str, Any],
                                    receiver: Receiver) -> None:
    api, token = platform.api, teacher["access_token"]
    hook = subscribe(api, token, receiver.url, "enrollment.created")
    receiver.script = [302]
    enroll_someone(api, free_course(api, token))
    receiver.wait_for(1)
    until(lambda: deliveries(api, token, hook["id"])[0]["attempts"] >= 1)
    log = deliveries(api, token, hook["id"])[0]
    assert log["last_status"] == 302 and "not followed" in log["last_error"]


@pytest.mark.parametrize("url", [
    "http://10.0.0.5/hook", "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:192.168.1.1]/hook", "http://user:pw@127.0.0.1:9/hook",
    "ftp://127.0.0.1/hook", "https://no-such-host.invalid/hook", "http://0.0.0.0:80/",
    "not a url at all"])
def test_ssrf_targets_are_refused(platform: RunningPlatform, teacher: dict[str, Any],
                                  url: str) -> None:
    resp = httpx.post(f"{platform.api}/teacher/webhooks",
                      json={"url": url, "events": ["enrollment.created"]},
                      headers=bearer(teacher["access_token"]))
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in resp.json()["errors"]] == ["url"]


def test_only_verified_teachers_subscribe(platform: RunningPlatform,
                                         receiver: Receiver) -> None:
    api = platform.api
    for role in ("student", "teacher"):
        token = login(api, register(api, role=role)["email"])["access_token"]
        resp = httpx.post(f"{api}/teacher/webhooks", headers=bearer(token),
                          json={"url": receiver.url, "events": ["enrollment.created"]})
        assert resp.status_code == 403, resp.text
    assert httpx.get(f"{api}/teacher/webhooks").status_code == 401
