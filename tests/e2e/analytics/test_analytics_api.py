"""Teacher analytics over HTTP: real enrollments, a Stripe payment and lesson progress flow
through the bus and the projector into the dashboard and the course report."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from localcloud.platform_tasks import stripe_pay
from localcloud.stack import LocalCloud
from tests.support.courses import add_text_lesson, create_course
from tests.support.identity import bearer, login, register, verified_teacher
from tests.support.platform import RunningPlatform


def student(api: str) -> dict[str, Any]:
    user = register(api)
    return {**user, **login(api, user["email"])}


def course_with_lessons(api: str, token: str, price: int, lessons: int) -> tuple[str, list[str]]:
    course = create_course(api, token, price={"amount": price, "currency": "usd"})
    ids = [add_text_lesson(api, token, course["id"])[1] for _ in range(lessons)]
    resp = httpx.post(f"{api}/courses/{course['id']}/publish", headers=bearer(token))
    assert resp.status_code == 200, resp.text
    return course["id"], ids


def eventually(read: Callable[[], dict[str, Any]], ready: Callable[[dict[str, Any]], bool],
               timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body = read()
        if ready(body) or time.monotonic() > deadline:
            return body
        time.sleep(0.4)


def test_dashboard_and_course_report_follow_real_activity(
        platform: RunningPlatform, cloud: LocalCloud, teacher: dict[str, Any]) -> None:
    api, auth = platform.api, bearer(teacher["access_token"])
    free_id, free_lessons = course_with_lessons(api, teacher["access_token"], 0, 2)
    paid_id, _ = course_with_lessons(api, teacher["access_token"], 1999, 1)
    learner, buyer = student(api), student(api)
    assert httpx.post(f"{api}/courses/{free_id}/enroll",
                      headers=bearer(learner["access_token"])).status_code == 201
    for _ in range(2):  # the second save of a completed lesson must not count again
        resp = httpx.put(f"{api}/courses/{free_id}/lessons/{free_lessons[0]}/progress",
                         json={"completed": True, "position_seconds": 30},
                         headers=bearer(learner["access_token"]))
        assert resp.status_code == 200, resp.text
    payment = httpx.post(f"{api}/courses/{paid_id}/enroll",
                         headers=bearer(buyer["access_token"])).json()
    assert "succeeded" in stripe_pay(cloud, payment["payment_id"])

    def dashboard() -> dict[str, Any]:
        resp = httpx.get(f"{api}/teacher/dashboard", headers=auth)
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        return body

    board = eventually(dashboard, lambda b: b["enrollments"] == 2 and bool(b["revenue"]))
    assert board["courses"] == 2 and board["students"] == 2
    assert board["active_students_7d"] == board["active_students_30d"] == 2
    assert board["revenue"] == [{"currency": "usd", "gross": 1999, "refunded": 0, "net": 1999}]
    assert {c["course_id"] for c in board["top_courses"]} == {free_id, paid_id}

    def report() -> dict[str, Any]:
        resp = httpx.get(f"{api}/teacher/courses/{free_id}/analytics",
                         params={"granularity": "week"}, headers=auth)
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        return body

    course = eventually(report, lambda r: r["lessons"][0]["completions"] == 1)
    assert course["students"] == 1 and course["totals"]["enrollments"] == 1
    assert [(lesson["lesson_id"], lesson["completions"]) for lesson in course["lessons"]] == [
        (free_lessons[0], 1), (free_lessons[1], 0)]
    assert course["lessons"][1]["drop_off_rate"] == 1.0
    time.sleep(1.5)  # a duplicate lesson.completed would have landed by now
    assert report()["lessons"][0]["completions"] == 1


def test_analytics_access_and_query_validation(platform: RunningPlatform,
                                               teacher: dict[str, Any],
                                               admin_token: str) -> None:
    api = platform.api
    course_id, _ = course_with_lessons(api, teacher["access_token"], 0, 1)
    url = f"{api}/teacher/courses/{course_id}/analytics"
    assert httpx.get(f"{api}/teacher/dashboard").status_code == 401
    outsider = student(api)
    refused = httpx.get(f"{api}/teacher/dashboard", headers=bearer(outsider["access_token"]))
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    other = verified_teacher(api, admin_token)
    assert httpx.get(url, headers=bearer(other["access_token"])).status_code == 403
    auth = bearer(teacher["access_token"])
    for params in ({"granularity": "hour"}, {"from": "2026-02-30"},
                   {"from": "2026-05-02", "to": "2026-05-01"},
                   {"from": "2020-01-01", "to": "2026-01-01"}, {"colour": "red"}):
        resp = httpx.get(url, params=params, headers=auth)
        assert resp.status_code == 422, (params, resp.text)
        assert resp.json()["errors"], resp.text
    ok = httpx.get(url, params={"from": "2026-01-01", "to": "2026-01-31"}, headers=auth)
    assert ok.status_code == 200 and len(ok.json()["series"]) == 31
