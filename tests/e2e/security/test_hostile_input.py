"""Hostile input never causes a 5xx: oversize and deeply nested bodies, invalid UTF-8, NUL
bytes, very long strings, injection-looking text and path traversal in upload filenames
are refused with a problem document or stored as plain text."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import pytest

from localcloud.stack import LocalCloud
from tests.support.courses import create_course, published_course
from tests.support.identity import bearer, login, register
from tests.support.platform import RunningPlatform

PROBLEM = "application/problem+json"


def send(api: str, method: str, path: str, token: str | None, body: bytes,
         content_type: str = "application/json") -> httpx.Response:
    headers = {"Content-Type": content_type, **(bearer(token) if token else {})}
    return httpx.request(method, f"{api}{path}", content=body, headers=headers, timeout=30)


BODIES: dict[str, bytes] = {
    "oversize": b'{"title": "' + b"x" * 200_000 + b'"}',
    "deeply nested": b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    "invalid utf-8": b'{"title": "\xff\xfe\xfa"}',
    "not json": b"title=hello",
    "json array": b"[1, 2, 3]",
    "nul bytes": b'{"title": "a\\u0000b", "email": "x\\u0000@example.com"}',
    "huge number": b'{"price": {"amount": 1' + b"0" * 400 + b', "currency": "usd"}}',
}


@pytest.fixture(scope="module")
def student(platform: RunningPlatform) -> str:
    user = register(platform.api)
    return str(login(platform.api, user["email"])["access_token"])


@pytest.mark.parametrize("kind", sorted(BODIES))
def test_bad_bodies_get_problem_answers(platform: RunningPlatform, teacher: dict[str, Any],
                                        student: str, kind: str) -> None:
    api, body = platform.api, BODIES[kind]
    course = create_course(api, teacher["access_token"])
    targets = [("POST", "/auth/register", None), ("POST", "/auth/login", None),
               ("POST", "/courses", teacher["access_token"]),
               ("PATCH", f"/courses/{course['id']}", teacher["access_token"]),
               ("PATCH", "/me/notifications", student)]
    for method, path, token in targets:
        resp = send(api, method, path, token, body)
        assert 400 <= resp.status_code < 500, (kind, path, resp.status_code, resp.text[:300])
        assert resp.headers["content-type"].startswith(PROBLEM), (kind, path)
        problem = resp.json()
        assert {"type", "title", "status", "detail"} <= problem.keys()


def test_injection_looking_text_is_stored_as_text(platform: RunningPlatform,
                                                  teacher: dict[str, Any]) -> None:
    api = platform.api
    hostile = "Robert'); DROP TABLE courses;-- {\"$gt\": \"\"} <script>alert(1)</script>"
    course = create_course(api, teacher["access_token"], title=hostile[:200],
                           description=hostile)
    fetched = httpx.get(f"{api}/courses/{course['id']}", headers=bearer(
        teacher["access_token"]), timeout=30).json()
    assert fetched["description"] == hostile
    found = httpx.get(f"{api}/search", params={"q": "'; DROP TABLE courses;--"}, timeout=30)
    assert found.status_code == 200  # searched as words, not as SQL
    assert httpx.get(f"{api}/courses", timeout=30).status_code == 200  # table still there


def test_upload_filenames_cannot_steer_the_storage_key(platform: RunningPlatform,
                                                       teacher: dict[str, Any]) -> None:
    api, token = platform.api, teacher["access_token"]
    course = create_course(api, token)
    section = httpx.post(f"{api}/courses/{course['id']}/sections", json={"title": "S"},
                         headers=bearer(token), timeout=30).json()
    lesson = httpx.post(f"{api}/courses/{course['id']}/sections/{section['id']}/lessons",
                        json={"title": "V", "kind": "video"}, headers=bearer(token),
                        timeout=30).json()
    url = f"{api}/courses/{course['id']}/lessons/{lesson['id']}/video"
    nul = httpx.post(url, json={"filename": "../../../etc/passwd\u0000.mp4",
                                "content_type": "video/mp4", "size_bytes": 10},
                     headers=bearer(token), timeout=30)
    assert nul.status_code == 422 and nul.json()["errors"][0]["field"] == "filename"
    ticket = httpx.post(url, json={"filename": "../../../etc/passwd.mp4",
                                   "content_type": "video/mp4", "size_bytes": 10},
                        headers=bearer(token), timeout=30)
    assert ticket.status_code == 201, ticket.text
    key = ticket.json()["fields"]["key"]
    assert key.startswith(f"uploads/{course['id']}/{lesson['id']}/") and ".." not in key
    assert key.endswith("/source.mp4")


def test_what_the_adversarial_probe_found_gets_4xx(platform: RunningPlatform,
                                                   teacher: dict[str, Any],
                                                   cloud: LocalCloud) -> None:
    """NUL bytes in titles and the search query, far-off analytics dates, signed Stripe
    bodies that are not events: each a problem document, never a 500."""
    from localcloud.platform_tasks import webhook_secret
    from tests.support.courses import course_body

    api, token = platform.api, teacher["access_token"]
    course = create_course(api, token)
    answers = {
        "course title": send(api, "POST", "/courses", token, json.dumps(
            course_body(title="Intro\u0000duction")).encode()),
        "section title": send(api, "POST", f"/courses/{course['id']}/sections", token,
                              b'{"title": "Part\\u0000one"}'),
        "search query": httpx.get(f"{api}/search", params={"q": "py\x00thon"}, timeout=30),
        "analytics from": httpx.get(f"{api}/teacher/courses/{course['id']}/analytics",
                                    params={"from": "9999-12-31"}, headers=bearer(token)),
        "analytics to": httpx.get(f"{api}/teacher/courses/{course['id']}/analytics",
                                  params={"to": "0001-01-01"}, headers=bearer(token)),
    }
    secret = webhook_secret(cloud)
    paid = published_course(api, token)  # a real pending payment, so the event is read on
    buyer = login(api, register(api)["email"])["access_token"]
    intent = httpx.post(f"{api}/courses/{paid['id']}/enroll", headers=bearer(buyer)).json()[
        "client_secret"].split("_secret_")[0]
    for name, payload in (("stripe array", b"[1, 2]"), ("stripe not json", b"not json"),
                          ("stripe amount", json.dumps({
                              "id": "evt_probe", "type": "payment_intent.succeeded",
                              "data": {"object": {"id": intent, "amount": "abc",
                                                  "currency": "usd"}}}).encode())):
        ts = int(time.time())
        digest = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256)
        answers[name] = httpx.post(f"{api}/payments/stripe/webhook", content=payload,
                                   headers={"Content-Type": "application/json",
                                            "Stripe-Signature": f"t={ts},v1={digest.hexdigest()}"})
    for name, resp in answers.items():
        assert 400 <= resp.status_code < 500, (name, resp.status_code, resp.text[:300])
        assert resp.headers["content-type"].startswith(PROBLEM), (name, resp.text[:300])
