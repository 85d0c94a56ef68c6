"""Courses over HTTP: roles, ownership, optimistic concurrency, syllabus, publishing."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import psycopg

from localcloud.stack import LocalCloud
from tests.support.courses import add_text_lesson, course_body, create_course, published_course
from tests.support.identity import bearer, login, register
from tests.support.platform import RunningPlatform
from tests.support.problems import problem


def test_only_verified_teachers_create(platform: RunningPlatform) -> None:
    api = platform.api
    student = login(api, register(api)["email"])["access_token"]
    unverified = login(api, register(api, role="teacher")["email"])["access_token"]
    problem(httpx.post(f"{api}/courses", json=course_body(), headers=bearer(student)), 403)
    body = problem(httpx.post(f"{api}/courses", json=course_body(),
                              headers=bearer(unverified)), 403)
    assert "verif" in body["detail"]
    assert httpx.post(f"{api}/courses", json=course_body()).status_code == 401


def test_create_read_and_draft_visibility(platform: RunningPlatform,
                                          teacher: dict[str, Any]) -> None:
    api, token = platform.api, teacher["access_token"]
    resp = httpx.post(f"{api}/courses", json=course_body(tags=["Python", "python ", "DATA"]),
                      headers=bearer(token))
    assert resp.status_code == 201, resp.text
    course = resp.json()
    assert course["status"] == "draft" and course["teacher_id"] == teacher["id"]
    assert course["price"] == {"amount": 1999, "currency": "usd"}
    assert course["tags"] == ["python", "data"]
    assert resp.headers["location"] == f"/courses/{course['id']}"
    mine = httpx.get(f"{api}/courses/{course['id']}", headers=bearer(token))
    assert mine.status_code == 200 and mine.headers["etag"] == '"v1"'
    problem(httpx.get(f"{api}/courses/{course['id']}"), 404)  # drafts do not leak
    other = login(api, register(api)["email"])["access_token"]
    problem(httpx.get(f"{api}/courses/{course['id']}", headers=bearer(other)), 404)
    problem(httpx.get(f"{api}/courses/not-a-uuid"), 404)
    problem(httpx.get(f"{api}/courses/{course['id']}", headers=bearer("garbage")), 401)


def test_bad_course_input_is_422_with_fields(platform: RunningPlatform,
                                             teacher: dict[str, Any]) -> None:
    api, token = platform.api, teacher["access_token"]
    bad = course_body(level="expert", price={"amount": -1, "currency": "USD"}, title="")
    body = problem(httpx.post(f"{api}/courses", json=bad, headers=bearer(token)), 422)
    fields = {e["field"] for e in body["errors"]}
    assert {"level", "price.amount", "price.currency", "title"} <= fields
    problem(httpx.post(f"{api}/courses", json={**course_body(), "owner": "me"},
                       headers=bearer(token)), 422)
    for price in ({"amount": 1999, "currency": "zzz"}, {"amount": 1, "currency": "usd"}):
        refused = problem(httpx.post(f"{api}/courses", json=course_body(price=price),
                                     headers=bearer(token)), 422)
        assert [e["field"] for e in refused["errors"]] == ["price"], refused


def test_patch_with_if_match_and_ownership(platform: RunningPlatform,
                                           teacher: dict[str, Any]) -> None:
    api, token = platform.api, teacher["access_token"]
    course = create_course(api, token)
    url = f"{api}/courses/{course['id']}"
    ok = httpx.patch(url, json={"title": "Python for Data Engineers, 2nd ed."},
                     headers={**bearer(token), "If-Match": '"v1"'})
    assert ok.status_code == 200, ok.text
    assert ok.json()["version"] == 2 and ok.headers["etag"] == '"v2"'
    stale = httpx.patch(url, json={"title": "Lost update"},
                        headers={**bearer(token), "If-Match": '"v1"'})
    problem(stale, 412)
    assert httpx.get(url, headers=bearer(token)).json()["title"].endswith("2nd ed.")
    stranger = login(api, register(api, role="teacher")["email"])["access_token"]
    problem(httpx.patch(url, json={"title": "mine now"}, headers=bearer(stranger)), 404)
    add_text_lesson(api, token, course["id"])
    assert httpx.post(f"{url}/publish", headers=bearer(token)).status_code == 200
    problem(httpx.patch(url, json={"title": "mine now"}, headers=bearer(stranger)), 403)
    problem(httpx.delete(url, headers=bearer(stranger)), 403)


def test_publish_needs_a_lesson_and_emits_through_the_outbox(
        platform: RunningPlatform, teacher: dict[str, Any], cloud: LocalCloud) -> None:
    api, token = platform.api, teacher["access_token"]
    course = create_course(api, token)
    url = f"{api}/courses/{course['id']}"
    problem(httpx.post(f"{url}/publish", headers=bearer(token)), 409)
    add_text_lesson(api, token, course["id"])
    published = httpx.post(f"{url}/publish", headers=bearer(token))
    assert published.status_code == 200 and published.json()["status"] == "published"
    assert published.json()["published_at"]
    assert httpx.get(url).status_code == 200  # public now
    with psycopg.connect(cloud.database_url) as conn:
        deadline = time.monotonic() + 10
        row = None
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT event_type, payload, published_at FROM outbox "
                "WHERE payload->'data'->>'course_id' = %s", (course["id"],)).fetchone()
            if row and row[2] is not None:
                break
            time.sleep(0.2)
    assert row is not None and row[0] == "course.published"
    assert row[2] is not None, "the committed event was not relayed to the bus"
    assert row[1]["data"]["title"] == course["title"]
    unpublished = httpx.post(f"{url}/unpublish", headers=bearer(token))
    assert unpublished.json()["status"] == "draft"
    problem(httpx.get(url), 404)


def test_archive_hides_the_course_and_freezes_it(platform: RunningPlatform,
                                                 teacher: dict[str, Any]) -> None:
    api, token = platform.api, teacher["access_token"]
    course = published_course(api, token)
    url = f"{api}/courses/{course['id']}"
    archived = httpx.delete(url, headers=bearer(token))
    assert archived.status_code == 200 and archived.json()["status"] == "archived"
    problem(httpx.get(url), 404)
    assert httpx.get(url, headers=bearer(token)).json()["status"] == "archived"
    problem(httpx.post(f"{url}/publish", headers=bearer(token)), 409)
    problem(httpx.post(f"{url}/sections", json={"title": "x"}, headers=bearer(token)), 409)


def test_syllabus_positions_reorder_and_preview_bodies(platform: RunningPlatform,
                                                       teacher: dict[str, Any]) -> None:
    api, token = platform.api, teacher["access_token"]
    course = create_course(api, token)
    base = f"{api}/courses/{course['id']}"
    first = httpx.post(f"{base}/sections", json={"title": "Two"}, headers=bearer(token)).json()
    zero = httpx.post(f"{base}/sections", json={"title": "One", "position": 0},
                      headers=bearer(token)).json()
    assert zero["position"] == 0
    lessons = []
    for title, preview in (("Intro", True), ("Deep dive", False)):
        lessons.append(httpx.post(f"{base}/sections/{zero['id']}/lessons", json={
            "title": title, "kind": "text", "body": f"{title} text", "free_preview": preview},
            headers=bearer(token)).json())
    problem(httpx.post(f"{base}/sections/{zero['id']}/lessons", json={
        "title": "Clip", "kind": "video", "body": "no"}, headers=bearer(token)), 422)
    problem(httpx.post(f"{base}/sections/00000000-0000-7000-8000-000000000000/lessons",
                       json={"title": "x", "kind": "text"}, headers=bearer(token)), 404)
    syllabus = httpx.get(f"{base}/syllabus", headers=bearer(token)).json()
    assert [s["title"] for s in syllabus["sections"]] == ["One", "Two"]
    reordered = httpx.put(f"{base}/sections/order", json={"ids": [first["id"], zero["id"]]},
                          headers=bearer(token))
    assert [s["title"] for s in reordered.json()["sections"]] == ["Two", "One"]
    problem(httpx.put(f"{base}/sections/order", json={"ids": [first["id"]]},
                      headers=bearer(token)), 422)
    lesson_ids = [lessons[1]["id"], lessons[0]["id"]]
    swapped = httpx.put(f"{base}/sections/{zero['id']}/lessons/order",
                        json={"ids": lesson_ids}, headers=bearer(token)).json()
    one = next(s for s in swapped["sections"] if s["id"] == zero["id"])
    assert [item["title"] for item in one["lessons"]] == ["Deep dive", "Intro"]
    assert httpx.post(f"{base}/publish", headers=bearer(token)).status_code == 200
    public = httpx.get(f"{base}/syllabus").json()
    bodies = {item["title"]: item["body"] for s in public["sections"] for item in s["lessons"]}
    assert bodies == {"Intro": "Intro text", "Deep dive": None}

    def public_titles() -> list[list[str]]:  # the public view is cached: changes retire it
        return [[s["title"], *(item["title"] for item in s["lessons"])]
                for s in httpx.get(f"{base}/syllabus").json()["sections"]]

    assert public_titles() == [["Two"], ["One", "Deep dive", "Intro"]]
    third = httpx.post(f"{base}/sections", json={"title": "Three"}, headers=bearer(token)).json()
    assert public_titles() == [["Two"], ["One", "Deep dive", "Intro"], ["Three"]]
    httpx.post(f"{base}/sections/{third['id']}/lessons", json={"title": "Outro", "kind": "text"},
               headers=bearer(token))
    assert public_titles() == [["Two"], ["One", "Deep dive", "Intro"], ["Three", "Outro"]]
    httpx.put(f"{base}/sections/order", json={"ids": [third["id"], zero["id"], first["id"]]},
              headers=bearer(token))
    assert public_titles() == [["Three", "Outro"], ["One", "Deep dive", "Intro"], ["Two"]]
    httpx.put(f"{base}/sections/{zero['id']}/lessons/order", json={"ids": lesson_ids[::-1]},
              headers=bearer(token))
    assert public_titles() == [["Three", "Outro"], ["One", "Intro", "Deep dive"], ["Two"]]


def test_cache_is_invalidated_on_update(platform: RunningPlatform,
                                        teacher: dict[str, Any]) -> None:
    api, token = platform.api, teacher["access_token"]
    course = published_course(api, token)
    url = f"{api}/courses/{course['id']}"
    assert httpx.get(url).json()["title"] == course["title"]  # now cached
    httpx.patch(url, json={"subtitle": "Fresh subtitle"}, headers=bearer(token))
    assert httpx.get(url).json()["subtitle"] == "Fresh subtitle"
    assert json.loads(httpx.get(url).text)["version"] == course["version"] + 1
