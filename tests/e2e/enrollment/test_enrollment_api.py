"""Enrollment and payments over HTTP with the local Stripe server: free and paid flows,
webhook idempotency, forged signatures, refunds, progress."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from localcloud.platform_tasks import sign_stripe_event, stripe_pay, stripe_refund, webhook_secret
from localcloud.stack import LocalCloud
from tests.support.courses import add_text_lesson, create_course, published_course
from tests.support.events import watch_events
from tests.support.identity import bearer, login, register
from tests.support.platform import RunningPlatform


def student(api: str) -> dict[str, Any]:
    user = register(api)
    return {**user, **login(api, user["email"])}


def enrollments(api: str, token: str) -> list[dict[str, Any]]:
    resp = httpx.get(f"{api}/me/enrollments", headers=bearer(token))
    assert resp.status_code == 200, resp.text
    items: list[dict[str, Any]] = resp.json()["items"]
    return items


def succeeded_event(intent_id: str, amount: int, meta: dict[str, str]) -> dict[str, Any]:
    return {"id": f"evt_{uuid.uuid4().hex[:24]}", "object": "event",
            "type": "payment_intent.succeeded", "created": int(time.time()),
            "data": {"object": {"id": intent_id, "object": "payment_intent", "amount": amount,
                                "currency": "usd", "status": "succeeded", "metadata": meta}}}


def deliver(api: str, cloud: LocalCloud, event: dict[str, Any], *, secret: str | None = None
            ) -> httpx.Response:
    body, signature = sign_stripe_event(event, secret or webhook_secret(cloud))
    return httpx.post(f"{api}/payments/stripe/webhook", content=body, timeout=30,
                      headers={"Content-Type": "application/json",
                               "Stripe-Signature": signature})


def test_free_enrollment_and_conflicts(platform: RunningPlatform,
                                       teacher: dict[str, Any]) -> None:
    api = platform.api
    course = published_course(api, teacher["access_token"], price={"amount": 0,
                                                                   "currency": "usd"})
    s = student(api)
    url = f"{api}/courses/{course['id']}/enroll"
    first = httpx.post(url, headers=bearer(s["access_token"]))
    assert first.status_code == 201, first.text
    assert first.json()["source"] == "free" and first.json()["status"] == "active"
    again = httpx.post(url, headers=bearer(s["access_token"]))
    assert again.status_code == 409
    assert again.json()["enrollment"]["id"] == first.json()["id"]
    mine = enrollments(api, s["access_token"])
    assert [e["course_title"] for e in mine] == [course["title"]]
    assert httpx.post(url, headers=bearer(teacher["access_token"])).status_code == 403
    draft = create_course(api, teacher["access_token"])
    assert httpx.post(f"{api}/courses/{draft['id']}/enroll",
                      headers=bearer(s["access_token"])).status_code == 404
    assert httpx.post(f"{api}/courses/{uuid.uuid4()}/enroll",
                      headers=bearer(s["access_token"])).status_code == 404


def test_enrolled_students_read_text_lessons_and_strangers_do_not(
        platform: RunningPlatform, teacher: dict[str, Any]) -> None:
    api = platform.api
    course = published_course(api, teacher["access_token"], price={"amount": 0,
                                                                   "currency": "usd"})
    url = f"{api}/courses/{course['id']}/syllabus"

    def bodies(token: str | None) -> list[str | None]:
        resp = httpx.get(url, headers=bearer(token) if token else {})
        assert resp.status_code == 200, resp.text
        return [lesson["body"] for section in resp.json()["sections"]
                for lesson in section["lessons"]]

    s, stranger = student(api), student(api)
    assert bodies(None) == [None] and bodies(stranger["access_token"]) == [None]
    assert bodies(teacher["access_token"]) == ["Read me."]
    enrolled = httpx.post(f"{api}/courses/{course['id']}/enroll",
                          headers=bearer(s["access_token"]))
    assert enrolled.status_code == 201, enrolled.text
    assert bodies(s["access_token"]) == ["Read me."]
    assert bodies(stranger["access_token"]) == [None] and bodies(None) == [None]


def test_paid_enrollment_through_stripe(platform: RunningPlatform, teacher: dict[str, Any],
                                        cloud: LocalCloud) -> None:
    api = platform.api
    course = published_course(api, teacher["access_token"])  # 19.99 usd
    s = student(api)
    started = httpx.post(f"{api}/courses/{course['id']}/enroll",
                         headers=bearer(s["access_token"]))
    assert started.status_code == 202, started.text
    payment = started.json()
    assert payment["client_secret"] and payment["price"] == {"amount": 1999,
                                                              "currency": "usd"}
    again = httpx.post(f"{api}/courses/{course['id']}/enroll",
                       headers=bearer(s["access_token"]))
    assert again.status_code == 202 and again.json()["payment_id"] == payment["payment_id"]
    assert enrollments(api, s["access_token"]) == []  # nothing before the payment succeeds
    with watch_events(cloud, {"source": ["edu.enrollment"],
                              "detail": {"data": {"user_id": [s["id"]]}}}) as watch:
        assert "succeeded" in stripe_pay(cloud, payment["payment_id"])
        deadline = time.monotonic() + 15  # localstripe delivers the webhook after ~1 s
        while not enrollments(api, s["access_token"]) and time.monotonic() < deadline:
            time.sleep(0.3)
        (enrolled,) = enrollments(api, s["access_token"])
        assert enrolled["source"] == "payment" and enrolled["status"] == "active"
        watch.collect(seconds=5, until=2)
        assert len(watch.of_type("payment.succeeded")) == 1
        assert len(watch.of_type("enrollment.created")) == 1
    receipts = httpx.get(f"{api}/me/payments", headers=bearer(s["access_token"])).json()
    assert [(p["status"], p["price"]["amount"]) for p in receipts["items"]] == [
        ("succeeded", 1999)]
    assert "card" not in str(receipts).lower()  # no card data is ours to keep


def test_a_pending_payment_follows_the_course_price(platform: RunningPlatform,
                                                   teacher: dict[str, Any],
                                                   cloud: LocalCloud) -> None:
    api, token = platform.api, teacher["access_token"]
    course = published_course(api, token, price={"amount": 50, "currency": "usd"})
    s = student(api)
    url = f"{api}/courses/{course['id']}/enroll"
    cheap = httpx.post(url, headers=bearer(s["access_token"])).json()
    assert cheap["price"] == {"amount": 50, "currency": "usd"}
    current = httpx.get(f"{api}/courses/{course['id']}", headers=bearer(token))
    raised = httpx.patch(f"{api}/courses/{course['id']}",
                         json={"price": {"amount": 500000, "currency": "usd"}},
                         headers={**bearer(token), "If-Match": current.headers["etag"]})
    assert raised.status_code == 200, raised.text

    again = httpx.post(url, headers=bearer(s["access_token"]))
    assert again.status_code == 202, again.text
    assert again.json()["payment_id"] != cheap["payment_id"]
    assert again.json()["price"] == {"amount": 500000, "currency": "usd"}
    import stripe

    with pytest.raises(stripe.InvalidRequestError):  # the old intent is canceled
        stripe_pay(cloud, cheap["payment_id"])
    receipts = httpx.get(f"{api}/me/payments", headers=bearer(s["access_token"])).json()
    assert sorted((p["price"]["amount"], p["status"]) for p in receipts["items"]) == [
        (50, "canceled"), (500000, "pending")]
    # Even a provider-signed success for the old intent does not enroll at the old price.
    intent_id = cheap["client_secret"].split("_secret_")[0]
    meta = {"user_id": s["id"], "course_id": course["id"], "payment_id": cheap["payment_id"]}
    outcome = deliver(api, cloud, succeeded_event(intent_id, 50, meta))
    assert outcome.json()["outcome"] == "ignored: canceled payment"
    assert enrollments(api, s["access_token"]) == []


def test_replayed_and_racing_webhooks_enroll_once(platform: RunningPlatform,
                                                  teacher: dict[str, Any],
                                                  cloud: LocalCloud) -> None:
    api = platform.api
    course = published_course(api, teacher["access_token"])
    s = student(api)
    payment = httpx.post(f"{api}/courses/{course['id']}/enroll",
                         headers=bearer(s["access_token"])).json()
    intent_id = payment["client_secret"].split("_secret_")[0]
    meta = {"user_id": s["id"], "course_id": course["id"], "payment_id": payment["payment_id"]}
    with watch_events(cloud, {"source": ["edu.enrollment"], "detail-type":
                              ["enrollment.created"],
                              "detail": {"data": {"user_id": [s["id"]]}}}) as watch:
        # Two different deliveries racing (distinct event ids, same payment) ...
        racing = [succeeded_event(intent_id, 1999, meta) for _ in range(4)]
        with ThreadPoolExecutor(4) as pool:
            codes = list(pool.map(lambda e: deliver(api, cloud, e).status_code, racing))
        assert codes == [200] * 4
        # ... and one delivery replayed 100 times.
        replayed = succeeded_event(intent_id, 1999, meta)
        outcomes = {deliver(api, cloud, replayed).json()["outcome"] for _ in range(100)}
        assert outcomes <= {"duplicate", "already fulfilled"}
        assert len(enrollments(api, s["access_token"])) == 1
        assert len(watch.collect(seconds=4)) == 1  # enrollment.created exactly once


def test_forged_or_missing_signature_is_400_and_writes_nothing(
        platform: RunningPlatform, teacher: dict[str, Any], cloud: LocalCloud) -> None:
    api = platform.api
    course = published_course(api, teacher["access_token"])
    s = student(api)
    payment = httpx.post(f"{api}/courses/{course['id']}/enroll",
                         headers=bearer(s["access_token"])).json()
    intent_id = payment["client_secret"].split("_secret_")[0]
    event = succeeded_event(intent_id, 1999, {"user_id": s["id"]})
    forged = deliver(api, cloud, event, secret="whsec_attacker")
    assert forged.status_code == 400
    assert forged.headers["content-type"].startswith("application/problem+json")
    missing = httpx.post(f"{api}/payments/stripe/webhook", json=event)
    assert missing.status_code == 400
    body, signature = sign_stripe_event(event, webhook_secret(cloud))
    tampered = httpx.post(f"{api}/payments/stripe/webhook", content=body.replace(b"1999",
                                                                                  b"1"),
                          headers={"Stripe-Signature": signature})
    assert tampered.status_code == 400
    assert enrollments(api, s["access_token"]) == []
    receipts = httpx.get(f"{api}/me/payments", headers=bearer(s["access_token"])).json()
    assert [p["status"] for p in receipts["items"]] == ["pending"]


def test_refund_revokes_access(platform: RunningPlatform, teacher: dict[str, Any],
                               cloud: LocalCloud) -> None:
    api = platform.api
    course = published_course(api, teacher["access_token"])
    s = student(api)
    payment = httpx.post(f"{api}/courses/{course['id']}/enroll",
                         headers=bearer(s["access_token"])).json()
    stripe_pay(cloud, payment["payment_id"])
    deadline = time.monotonic() + 15
    while not enrollments(api, s["access_token"]) and time.monotonic() < deadline:
        time.sleep(0.3)
    progress = f"{api}/courses/{course['id']}/progress"
    assert httpx.get(progress, headers=bearer(s["access_token"])).status_code == 200
    assert "200" in stripe_refund(cloud, payment["payment_id"])
    assert httpx.get(progress, headers=bearer(s["access_token"])).status_code == 403
    (enrollment,) = enrollments(api, s["access_token"])
    assert enrollment["status"] == "revoked"
    receipts = httpx.get(f"{api}/me/payments", headers=bearer(s["access_token"])).json()
    assert [p["status"] for p in receipts["items"]] == ["refunded"]


def test_progress_rules_and_completion(platform: RunningPlatform, teacher: dict[str, Any],
                                       cloud: LocalCloud) -> None:
    api, token = platform.api, teacher["access_token"]
    course = create_course(api, token, price={"amount": 0, "currency": "usd"})
    _sid, first = add_text_lesson(api, token, course["id"])
    _sid2, second = add_text_lesson(api, token, course["id"])
    assert httpx.post(f"{api}/courses/{course['id']}/publish",
                      headers=bearer(token)).status_code == 200
    s, other = student(api), student(api)
    httpx.post(f"{api}/courses/{course['id']}/enroll", headers=bearer(s["access_token"]))
    base = f"{api}/courses/{course['id']}"
    put = f"{base}/lessons/{first}/progress"
    assert httpx.put(put, json={"completed": True, "position_seconds": 30},
                     headers=bearer(other["access_token"])).status_code == 403
    assert httpx.get(f"{base}/progress", headers=bearer(other["access_token"])
                     ).status_code == 403
    assert httpx.put(f"{base}/lessons/{uuid.uuid4()}/progress", json={"completed": True},
                     headers=bearer(s["access_token"])).status_code == 404
    assert httpx.put(put, json={"completed": "maybe"},
                     headers=bearer(s["access_token"])).status_code == 422
    with watch_events(cloud, {"source": ["edu.enrollment"],
                              "detail-type": ["course.completed"],
                              "detail": {"data": {"user_id": [s["id"]]}}}) as watch:
        half = httpx.put(put, json={"completed": True, "position_seconds": 30},
                         headers=bearer(s["access_token"]))
        assert half.status_code == 200 and half.json()["progress_percent"] == 50.0
        done = httpx.put(f"{base}/lessons/{second}/progress", json={"completed": True},
                         headers=bearer(s["access_token"]))
        assert done.json()["progress_percent"] == 100.0 and done.json()["completed_at"]
        again = httpx.put(f"{base}/lessons/{second}/progress", json={"completed": True},
                          headers=bearer(s["access_token"]))
        assert again.status_code == 200
        assert len(watch.collect(seconds=4)) == 1  # course.completed once
    (enrolled,) = enrollments(api, s["access_token"])
    assert enrolled["progress_percent"] == 100.0
    owner_view = httpx.get(f"{base}/progress", headers=bearer(token))
    assert owner_view.status_code == 200  # the teacher may preview their own course

    # Position saves leave the counters as stored (no counter write); un-completing moves them.
    for position in (40, 50):
        assert httpx.put(f"{base}/lessons/{second}/progress",
                         json={"completed": True, "position_seconds": position},
                         headers=bearer(s["access_token"])).json()["completed_lessons"] == 2
    undone = httpx.put(put, json={"completed": False, "position_seconds": 5},
                       headers=bearer(s["access_token"]))
    assert undone.json()["completed_lessons"] == 1
    assert httpx.put(put, json={"completed": False, "position_seconds": 9},
                     headers=bearer(s["access_token"])).json()["completed_lessons"] == 1
    (enrolled,) = enrollments(api, s["access_token"])
    assert (enrolled["completed_lessons"], enrolled["progress_percent"]) == (1, 50.0)
