"""Live sessions over HTTP: the course's teacher schedules and cancels, everyone who may see
the course lists the upcoming ones, and scheduling publishes live.scheduled on the bus."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx

from localcloud.stack import LocalCloud
from tests.support.courses import published_course
from tests.support.events import mail_to, watch_events
from tests.support.identity import bearer, login, register, verified_teacher
from tests.support.platform import RunningPlatform
from tests.support.problems import problem


def starts(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


def test_a_teacher_schedules_lists_and_cancels(platform: RunningPlatform, admin_token: str,
                                               cloud: LocalCloud) -> None:
    api = platform.api
    owner = verified_teacher(api, admin_token)["access_token"]
    course = published_course(api, owner)
    sessions = f"{api}/courses/{course['id']}/live-sessions"
    with watch_events(cloud, {"source": ["edu.live"]}) as watch:
        created = httpx.post(sessions, json={"title": "Office hours", "starts_at": starts(24)},
                             headers=bearer(owner), timeout=30)
        assert created.status_code == 201, created.text
        session = created.json()
        assert created.headers["location"].endswith(f"/live-sessions/{session['id']}")
        assert session["status"] == "scheduled" and session["title"] == "Office hours"
        (event,) = watch.collect(seconds=15, until=1)
        assert event["type"] == "live.scheduled" and event["data"]["session_id"] == session["id"]

    listed = httpx.get(sessions, timeout=30)  # anonymous: a published course's upcoming ones
    assert listed.status_code == 200 and [s["id"] for s in listed.json()["items"]] == [
        session["id"]]
    out = httpx.delete(f"{sessions}/{session['id']}", headers=bearer(owner), timeout=30)
    assert out.status_code == 200 and out.json()["status"] == "cancelled"
    problem(httpx.delete(f"{sessions}/{session['id']}", headers=bearer(owner), timeout=30), 409)
    assert httpx.get(sessions, timeout=30).json()["items"] == []
    mine = httpx.get(sessions, headers=bearer(owner), timeout=30).json()["items"]
    assert [s["status"] for s in mine] == ["cancelled"]  # the teacher sees every session


def test_others_and_bad_input_are_refused(platform: RunningPlatform,
                                          admin_token: str) -> None:
    api = platform.api
    owner = verified_teacher(api, admin_token)["access_token"]
    other = verified_teacher(api, admin_token)["access_token"]
    student = login(api, register(api)["email"])["access_token"]
    sessions = f"{api}/courses/{published_course(api, owner)['id']}/live-sessions"
    body = {"title": "Q&A", "starts_at": starts(2)}
    problem(httpx.post(sessions, json=body, timeout=30), 401)
    problem(httpx.post(sessions, json=body, headers=bearer(student), timeout=30), 403)
    problem(httpx.post(sessions, json=body, headers=bearer(other), timeout=30), 403)
    past = problem(httpx.post(sessions, json={**body, "starts_at": starts(-1)},
                              headers=bearer(owner), timeout=30), 422)
    assert [e["field"] for e in past["errors"]] == ["starts_at"]
    naive = problem(httpx.post(sessions, json={**body, "starts_at": "2027-01-01T10:00:00"},
                               headers=bearer(owner), timeout=30), 422)
    assert naive["errors"][0]["field"] == "starts_at"
    problem(httpx.post(sessions, json={**body, "title": ""}, headers=bearer(owner),
                       timeout=30), 422)
    missing = f"{api}/courses/00000000-0000-7000-8000-000000000000/live-sessions"
    problem(httpx.get(missing, timeout=30), 404)
    problem(httpx.delete(f"{sessions}/not-a-session", headers=bearer(owner), timeout=30), 404)


def test_enrolled_students_are_told_of_a_new_session(platform: RunningPlatform,
                                                     admin_token: str,
                                                     cloud: LocalCloud) -> None:
    """live.scheduled reaches the notifications consumer, which mails every student enrolled
    (as the analytics read model knows them), but not one who opted out of such mail."""
    api = platform.api
    owner = verified_teacher(api, admin_token)["access_token"]
    course = published_course(api, owner, price={"amount": 0, "currency": "usd"})
    keen, quiet = register(api), register(api)
    for student in (keen, quiet):
        token = login(api, student["email"])["access_token"]
        assert httpx.post(f"{api}/courses/{course['id']}/enroll", headers=bearer(token),
                          timeout=30).status_code == 201
    quiet_token = login(api, quiet["email"])["access_token"]
    assert httpx.patch(f"{api}/me/notifications", json={"marketing_emails": False},
                       headers=bearer(quiet_token), timeout=30).status_code == 200
    deadline = time.monotonic() + 30  # the roster follows enrollments through events
    while httpx.get(f"{api}/teacher/dashboard", headers=bearer(owner),
                    timeout=30).json()["students"] < 2:
        assert time.monotonic() < deadline, "the analytics projector never saw the students"
        time.sleep(0.5)
    created = httpx.post(f"{api}/courses/{course['id']}/live-sessions", timeout=30,
                         json={"title": "Exam prep", "starts_at": starts(24)},
                         headers=bearer(owner))
    assert created.status_code == 201, created.text
    subject = f"Live session: Exam prep ({course['title']})"
    (mail,) = mail_to(cloud, keen["email"], subject=subject, timeout=30)
    assert course["id"] in mail["body"]
    assert mail_to(cloud, quiet["email"], subject=subject, timeout=3) == []


def test_students_see_the_sessions_of_their_courses(platform: RunningPlatform,
                                                    admin_token: str) -> None:
    """GET /me/live-sessions, the in-app notice: a student sees the upcoming sessions of the
    courses it is enrolled in, not others', and not a cancelled one."""
    api = platform.api
    owner = verified_teacher(api, admin_token)["access_token"]
    mine_course = published_course(api, owner, price={"amount": 0, "currency": "usd"})
    other_course = published_course(api, owner, price={"amount": 0, "currency": "usd"})
    ids = []
    for course in (mine_course, other_course, mine_course):
        created = httpx.post(f"{api}/courses/{course['id']}/live-sessions", timeout=30,
                             json={"title": "Drop-in", "starts_at": starts(len(ids) + 1)},
                             headers=bearer(owner))
        ids.append(created.json()["id"])
    token = login(api, register(api)["email"])["access_token"]
    assert httpx.post(f"{api}/courses/{mine_course['id']}/enroll", headers=bearer(token),
                      timeout=30).status_code == 201
    httpx.delete(f"{api}/courses/{mine_course['id']}/live-sessions/{ids[2]}",
                 headers=bearer(owner), timeout=30)
    mine = httpx.get(f"{api}/me/live-sessions", headers=bearer(token), timeout=30)
    assert mine.status_code == 200 and [s["id"] for s in mine.json()["items"]] == [ids[0]]
    # no token: the API's JWT authorizer answers, as API Gateway does
    assert httpx.get(f"{api}/me/live-sessions", timeout=30).status_code == 401
