"""Teacher API keys over HTTP: shown once and stored hashed, scopes enforced by the Lambda
authorizer + functions, revocation immediate (401), a rate limit per key (429)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from localcloud.stack import LocalCloud
from tests.support.aws import aws_client
from tests.support.courses import course_body, create_course
from tests.support.identity import bearer, login, register, verified_teacher
from tests.support.platform import RunningPlatform

KEY_LIMIT = 120  # the template's ApiKeyLimitPerMinute


def create_key(api: str, token: str, *scopes: str, name: str = "ci") -> dict[str, Any]:
    resp = httpx.post(f"{api}/teacher/api-keys", json={"name": name, "scopes": list(scopes)},
                      headers=bearer(token), timeout=30)
    assert resp.status_code == 201, resp.text
    assert resp.headers["cache-control"] == "no-store"
    body: dict[str, Any] = resp.json()
    return body


def key_header(key: str) -> dict[str, str]:
    return {"X-Api-Key": key}


def assert_problem(resp: httpx.Response, status: int, text: str = "") -> None:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json"), resp.text
    assert text in resp.json()["detail"], resp.text


def test_a_scoped_key_acts_as_its_teacher(platform: RunningPlatform,
                                          teacher: dict[str, Any]) -> None:
    api, token = platform.api, teacher["access_token"]
    draft = create_course(api, token)
    reader = create_key(api, token, "read:courses", "read:analytics", "read:courses")
    assert reader["key"].startswith("edu_") and reader["scopes"] == ["read:analytics",
                                                                     "read:courses"]
    assert reader["key"].startswith(reader["prefix"])
    mine = httpx.get(f"{api}/teacher/courses", headers=key_header(reader["key"]))
    assert mine.status_code == 200, mine.text
    assert [c["id"] for c in mine.json()["items"]] == [draft["id"]]  # drafts included
    as_bearer = httpx.get(f"{api}/teacher/courses", headers=bearer(reader["key"]))
    assert as_bearer.status_code == 200 and as_bearer.json() == mine.json()
    assert httpx.get(f"{api}/teacher/dashboard",
                     headers=key_header(reader["key"])).status_code == 200
    assert_problem(httpx.post(f"{api}/courses", json=course_body(),
                              headers=key_header(reader["key"])), 403, "write:courses")
    writer = create_key(api, token, "write:courses")
    made = httpx.post(f"{api}/courses", json=course_body(title="Made by a key"),
                      headers=key_header(writer["key"]))
    assert made.status_code == 201, made.text
    assert made.json()["teacher_id"] == teacher["id"]
    patched = httpx.patch(f"{api}/courses/{made.json()['id']}", json={"subtitle": "via key"},
                          headers=key_header(writer["key"]))
    assert patched.status_code == 200 and patched.json()["subtitle"] == "via key"
    assert_problem(httpx.get(f"{api}/teacher/courses", headers=key_header(writer["key"])),
                   403, "read:courses")
    # Session-only routes never accept a key: it cannot mint keys or act as the account.
    assert httpx.get(f"{api}/me", headers=bearer(writer["key"])).status_code == 401
    assert httpx.post(f"{api}/teacher/api-keys", json={"name": "x", "scopes": ["read:courses"]},
                      headers=bearer(writer["key"])).status_code == 401
    # The access token still works on the Teacher API routes.
    assert httpx.get(f"{api}/teacher/courses", headers=bearer(token)).status_code == 200


def test_keys_are_listed_without_secrets_and_stored_hashed(
        platform: RunningPlatform, cloud: LocalCloud, teacher: dict[str, Any]) -> None:
    api, token = platform.api, teacher["access_token"]
    created = create_key(api, token, "read:courses", name="reporting")
    listed = httpx.get(f"{api}/teacher/api-keys", headers=bearer(token)).json()["items"]
    assert [(k["id"], k["name"], k["revoked_at"]) for k in listed] == [
        (created["id"], "reporting", None)]
    assert created["key"] not in str(listed) and "key" not in listed[0]
    dynamo = aws_client(cloud, "dynamodb")
    table = next(t for t in dynamo.list_tables()["TableNames"] if t.endswith("-users"))
    item = dynamo.get_item(TableName=table, Key={"pk": {"S": f"APIKEY#{created['id']}"},
                                                 "sk": {"S": "KEY"}})["Item"]
    secret = created["key"].split("_", 2)[2]  # edu_<id>_<secret>; the secret may hold "_"
    assert secret not in str(item) and len(item["secret_hash"]["S"]) == 64


def test_a_revoked_or_forged_key_is_401(platform: RunningPlatform, teacher: dict[str, Any],
                                        admin_token: str) -> None:
    api, token = platform.api, teacher["access_token"]
    key = create_key(api, token, "read:courses")
    url = f"{api}/teacher/courses"
    assert httpx.get(url, headers=key_header(key["key"])).status_code == 200
    other = verified_teacher(api, admin_token)
    assert_problem(httpx.delete(f"{api}/teacher/api-keys/{key['id']}",
                                headers=bearer(other["access_token"])), 404)
    revoked = httpx.delete(f"{api}/teacher/api-keys/{key['id']}", headers=bearer(token))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    refused = httpx.get(url, headers=key_header(key["key"]))
    assert_problem(refused, 401, "revoked")
    assert refused.headers["www-authenticate"].startswith("Bearer")
    forged = key["key"][:-4] + ("AAAA" if not key["key"].endswith("AAAA") else "BBBB")
    assert_problem(httpx.get(url, headers=key_header(forged)), 401, "not valid")
    assert_problem(httpx.get(url, headers=key_header("edu_nothing")), 401, "not valid")
    assert_problem(httpx.get(url), 401)
    assert_problem(httpx.get(url, headers=bearer("not.a.jwt")), 401, "access token")


@pytest.mark.parametrize("body,status", [
    ({"name": "x", "scopes": ["admin"]}, 422), ({"name": "x", "scopes": []}, 422),
    ({"name": " ", "scopes": ["read:courses"]}, 422),
    ({"name": "x", "scopes": ["read:courses"], "user_id": "someone"}, 422)])
def test_key_requests_are_validated(platform: RunningPlatform, teacher: dict[str, Any],
                                    body: dict[str, Any], status: int) -> None:
    resp = httpx.post(f"{platform.api}/teacher/api-keys", json=body,
                      headers=bearer(teacher["access_token"]))
    assert_problem(resp, status)


def test_only_verified_teachers_create_keys(platform: RunningPlatform) -> None:
    api = platform.api
    for role in ("student", "teacher"):  # a new teacher is not verified yet
        token = login(api, register(api, role=role)["email"])["access_token"]
        assert_problem(httpx.post(f"{api}/teacher/api-keys",
                                  json={"name": "x", "scopes": ["read:courses"]},
                                  headers=bearer(token)), 403)


def test_each_key_has_its_own_rate_limit(platform: RunningPlatform,
                                         teacher: dict[str, Any]) -> None:
    api, token = platform.api, teacher["access_token"]
    busy, calm = (create_key(api, token, "read:courses")["key"] for _ in range(2))
    with httpx.Client(timeout=30) as client:
        codes = [client.get(f"{api}/teacher/courses", params={"limit": 1},
                            headers=key_header(busy)).status_code for _ in range(KEY_LIMIT)]
        assert set(codes) == {200}
        refused = client.get(f"{api}/teacher/courses", headers=key_header(busy))
        assert_problem(refused, 429)
        assert int(refused.headers["retry-after"]) >= 1
        assert client.get(f"{api}/teacher/courses",
                          headers=key_header(calm)).status_code == 200
