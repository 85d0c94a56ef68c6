"""Access control matrix (OWASP API: BOLA, BFLA, mass assignment): every course-scoped route
tried as each kind of caller, against a published and a draft course. Rules (ARCHITECTURE
§5): no token on a protected route -> 401; a draft does not exist for anyone but its
teacher -> 404; a published course's owner-only action by anyone else -> 403."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.support.courses import create_course
from tests.support.identity import bearer, login, register, verified_teacher
from tests.support.platform import RunningPlatform

PERSONAS = ("anonymous", "student", "enrolled", "unverified_teacher", "other_teacher",
            "owner", "admin")


def user_token(api: str, role: str = "student") -> str:
    return str(login(api, register(api, role=role)["email"])["access_token"])


@pytest.fixture(scope="module")
def world(platform: RunningPlatform, admin_token: str) -> dict[str, Any]:
    api = platform.api
    owner = verified_teacher(api, admin_token)["access_token"]
    tokens = {"anonymous": None, "student": user_token(api), "enrolled": user_token(api),
              "unverified_teacher": user_token(api, "teacher"),
              "other_teacher": verified_teacher(api, admin_token)["access_token"],
              "owner": owner, "admin": admin_token}
    ids: dict[str, Any] = {}
    for name, publish in (("published", True), ("draft", False)):
        course = create_course(api, owner, price={"amount": 0, "currency": "usd"})
        section = httpx.post(f"{api}/courses/{course['id']}/sections", json={"title": "S"},
                             headers=bearer(owner), timeout=30).json()
        lesson = httpx.post(f"{api}/courses/{course['id']}/sections/{section['id']}/lessons",
                            json={"title": "V", "kind": "video"}, headers=bearer(owner),
                            timeout=30).json()
        if publish:
            assert httpx.post(f"{api}/courses/{course['id']}/publish", headers=bearer(owner),
                              timeout=30).status_code == 200
        ids[name] = {"id": course["id"], "sid": section["id"], "lid": lesson["id"]}
    enrolled = httpx.post(f"{api}/courses/{ids['published']['id']}/enroll",
                          headers=bearer(tokens["enrolled"]), timeout=30)
    assert enrolled.status_code == 201, enrolled.text
    return {"tokens": tokens, "ids": ids}


def expect(owner: int, *, anonymous: int = 401, enrolled: int | None = None,
           others: int = 403, admin: int | None = None) -> dict[str, int]:
    outcome = dict.fromkeys(PERSONAS, others)
    outcome.update(anonymous=anonymous, owner=owner)
    if enrolled is not None:
        outcome["enrolled"] = enrolled
    if admin is not None:
        outcome["admin"] = admin
    return outcome


def outcomes(api: str, tokens: dict[str, str | None], method: str, path: str,
             body: dict[str, Any] | None) -> dict[str, int]:
    """The status each persona gets; every refusal by a function is a problem document."""
    got = {}
    for persona in PERSONAS:
        token = tokens[persona]
        resp = httpx.request(method, f"{api}{path}", json=body, timeout=30,
                             headers=bearer(token) if token else {})
        got[persona] = resp.status_code
        if resp.status_code == 401 and persona == "anonymous":
            continue  # the API's JWT authorizer answers as API Gateway does
        if resp.status_code >= 400:
            assert resp.headers["content-type"].startswith("application/problem+json"), (
                persona, resp.status_code, resp.text[:200])
    return got


NEXT_WEEK = (datetime.now(UTC) + timedelta(days=7)).isoformat()

# Reorder bodies: the current ids in their current order (other rows add sections/lessons).
EVERY_SECTION: dict[str, Any] = {"ids": "every section"}
EVERY_LESSON: dict[str, Any] = {"ids": "every lesson of the first section"}


def current_order(api: str, owner: str, course_id: str, body: dict[str, Any]
                  ) -> dict[str, Any]:
    syllabus = httpx.get(f"{api}/courses/{course_id}/syllabus", headers=bearer(owner),
                         timeout=30).json()
    if body is EVERY_SECTION:
        return {"ids": [s["id"] for s in syllabus["sections"]]}
    return {"ids": [lesson["id"] for lesson in syllabus["sections"][0]["lessons"]]}


# (method, path, body, expected on the published course, expected on the draft)
ROUTES: list[tuple[str, str, dict[str, Any] | None, dict[str, int], dict[str, int]]] = [
    ("GET", "/courses/{id}", None, dict.fromkeys(PERSONAS, 200),
     expect(200, anonymous=404, others=404)),
    ("GET", "/courses/{id}/syllabus", None, dict.fromkeys(PERSONAS, 200),
     expect(200, anonymous=404, others=404)),
    ("PATCH", "/courses/{id}", {"subtitle": "changed"}, expect(200), expect(200, others=404)),
    ("POST", "/courses/{id}/sections", {"title": "More"}, expect(201),
     expect(201, others=404)),
    ("POST", "/courses/{id}/sections/{sid}/lessons", {"title": "L", "kind": "text"},
     expect(201), expect(201, others=404)),
    ("PUT", "/courses/{id}/sections/order", EVERY_SECTION, expect(200),
     expect(200, others=404)),
    ("PUT", "/courses/{id}/sections/{sid}/lessons/order", EVERY_LESSON, expect(200),
     expect(200, others=404)),
    ("GET", "/courses/{id}/progress", None, expect(200, enrolled=200),
     expect(200, others=404)),
    ("PUT", "/courses/{id}/lessons/{lid}/progress", {"completed": False},
     expect(200, enrolled=200), expect(200, others=404)),
    ("POST", "/courses/{id}/lessons/{lid}/video",
     {"filename": "a.mp4", "content_type": "video/mp4", "size_bytes": 10}, expect(201),
     expect(201, others=404)),
    ("GET", "/courses/{id}/lessons/{lid}/video", None, expect(200, enrolled=200, admin=200),
     expect(200, anonymous=404, others=404, admin=200)),
    # analytics: non-teachers are refused before the course is looked at (nothing leaks)
    ("GET", "/teacher/courses/{id}/analytics", None, expect(200),
     {**expect(200), "other_teacher": 404}),
    # live sessions: scheduling is the verified owner's (non-teachers refused first, as above)
    ("POST", "/courses/{id}/live-sessions", {"title": "Live", "starts_at": NEXT_WEEK},
     expect(201), {**expect(201), "other_teacher": 404}),
    ("GET", "/courses/{id}/live-sessions", None, dict.fromkeys(PERSONAS, 200),
     expect(200, anonymous=404, others=404)),
]


@pytest.mark.parametrize("state", ["published", "draft"])
@pytest.mark.parametrize("route", ROUTES, ids=[f"{r[0]} {r[1]}" for r in ROUTES])
def test_each_caller_gets_the_documented_outcome(platform: RunningPlatform,
                                                 world: dict[str, Any], route: Any,
                                                 state: str) -> None:
    method, template, body, on_published, on_draft = route
    expected = on_published if state == "published" else on_draft
    ids = world["ids"][state]
    path = template.format(**ids)
    if body is EVERY_SECTION or body is EVERY_LESSON:
        body = current_order(platform.api, world["tokens"]["owner"], ids["id"], body)
    assert outcomes(platform.api, world["tokens"], method, path, body) == expected


@pytest.mark.parametrize("field,value", [("teacher_id", "someone-else"),
                                         ("status", "published"), ("version", 99),
                                         ("id", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")])
def test_mass_assignment_is_refused_and_changes_nothing(platform: RunningPlatform,
                                                       world: dict[str, Any], field: str,
                                                       value: Any) -> None:
    api, owner = platform.api, world["tokens"]["owner"]
    course_id = world["ids"]["draft"]["id"]
    before = httpx.get(f"{api}/courses/{course_id}", headers=bearer(owner), timeout=30).json()
    resp = httpx.patch(f"{api}/courses/{course_id}", json={field: value},
                       headers=bearer(owner), timeout=30)
    assert resp.status_code == 422, resp.text
    after = httpx.get(f"{api}/courses/{course_id}", headers=bearer(owner), timeout=30).json()
    assert after == before


@pytest.mark.parametrize("extra", [{"role": "admin"}, {"is_verified": True},
                                   {"verification_status": "verified"}])
def test_registration_cannot_grant_itself_privileges(platform: RunningPlatform,
                                                     extra: dict[str, Any]) -> None:
    body = {"email": f"mass-{abs(hash(str(extra)))}@example.com",
            "password": "correct horse battery staple", "full_name": "Mallory",
            "role": "teacher", **extra}
    resp = httpx.post(f"{platform.api}/auth/register", json=body, timeout=30)
    assert resp.status_code == 422, resp.text


# Account-scoped and admin routes: (method, path, body, expected per caller). The admin
# route targets a teacher with no pending request, so the admin's answer is 409 (allowed,
# nothing to decide) while everyone else is refused before the state is looked at.
ACCOUNT_ROUTES: list[tuple[str, str, dict[str, Any] | None, dict[str, int]]] = [
    ("GET", "/me", None, expect(200, enrolled=200, others=200, admin=200)),
    ("GET", "/me/enrollments", None, expect(200, enrolled=200, others=200, admin=200)),
    ("GET", "/me/payments", None, expect(200, enrolled=200, others=200, admin=200)),
    ("PATCH", "/me/notifications", {"marketing_emails": True},
     expect(200, enrolled=200, others=200, admin=200)),
    ("GET", "/teacher/dashboard", None, {**expect(200), "other_teacher": 200}),
    ("GET", "/teacher/courses", None, expect(200, enrolled=200, others=200, admin=200)),
    ("GET", "/teacher/api-keys", None, {**expect(200), "other_teacher": 200}),
    ("GET", "/teacher/webhooks", None, {**expect(200), "other_teacher": 200}),
    ("POST", "/admin/teachers/{teacher}/verify", None, expect(403, admin=409)),
    ("POST", "/admin/teachers/{teacher}/reject", {"reason": "no"}, expect(403, admin=409)),
]


@pytest.mark.parametrize("route", ACCOUNT_ROUTES, ids=[f"{r[0]} {r[1]}" for r in ACCOUNT_ROUTES])
def test_account_and_admin_routes(platform: RunningPlatform, world: dict[str, Any],
                                  admin_token: str, route: Any) -> None:
    method, template, body, expected = route
    teacher = verified_teacher(platform.api, admin_token)  # verified: nothing pending
    path = template.format(teacher=teacher["id"])
    assert outcomes(platform.api, world["tokens"], method, path, body) == expected
