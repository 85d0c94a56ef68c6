"""Identity over HTTP: the real gateway, JWT authorizer, functions, DynamoDB and Redis."""

from __future__ import annotations

import base64
import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import jwt

from localcloud.platform_tasks import create_admin
from localcloud.stack import LocalCloud
from tests.support.identity import PASSWORD, bearer, login, new_email, register
from tests.support.platform import RunningPlatform


def problem(resp: httpx.Response, status: int) -> dict:  # type: ignore[type-arg]
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert {"type", "title", "status", "detail"} <= body.keys() and body["status"] == status
    return body  # type: ignore[no-any-return]


def test_register_login_me(platform: RunningPlatform) -> None:
    api = platform.api
    email = new_email()
    resp = httpx.post(f"{api}/auth/register", json={
        "email": f"  {email.upper()} ", "password": PASSWORD, "full_name": " Ada  Lovelace ",
        "role": "teacher"}, timeout=30)
    assert resp.status_code == 201, resp.text + platform.log_tail()
    user = resp.json()
    assert user["email"] == email and user["full_name"] == "Ada Lovelace"
    assert user["role"] == "teacher" and user["is_verified"] is False
    assert "password" not in resp.text and "hash" not in resp.text
    assert resp.headers["location"] == "/me"

    tokens = login(api, email.upper())
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["sub"] == user["id"] and claims["role"] == "teacher"
    assert claims["is_verified"] is False and claims["aud"] == "eduplatform"
    assert {"iss", "iat", "exp", "jti"} <= claims.keys()

    me = httpx.get(f"{api}/me", headers=bearer(tokens["access_token"]), timeout=30)
    assert me.status_code == 200, me.text
    assert me.json()["id"] == user["id"] and me.json()["created_at"] == user["created_at"]


def test_me_rejects_missing_and_bad_tokens(platform: RunningPlatform) -> None:
    api = platform.api
    assert httpx.get(f"{api}/me").status_code == 401
    email = register(api)["email"]
    token = login(api, email)["access_token"]
    head, body, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["role"] = "admin"
    forged_body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    for bad in (f"{head}.{forged_body}.{sig}",
                jwt.encode({**claims, "alg": "none"}, None, algorithm="none"),  # type: ignore[arg-type]
                "garbage"):
        resp = httpx.get(f"{api}/me", headers=bearer(bad))
        assert resp.status_code == 401
        assert resp.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


def test_duplicate_email_is_409_and_concurrent_registrations_give_one_201(
        platform: RunningPlatform) -> None:
    api = platform.api
    email = register(api)["email"]
    resp = httpx.post(f"{api}/auth/register", json={
        "email": email.upper(), "password": PASSWORD, "full_name": "X", "role": "student"})
    problem(resp, 409)

    racing = new_email("race")

    def attempt(_: int) -> int:
        return httpx.post(f"{api}/auth/register", json={
            "email": racing, "password": PASSWORD, "full_name": "Racer", "role": "student"},
            timeout=30).status_code

    with ThreadPoolExecutor(6) as pool:
        codes = sorted(pool.map(attempt, range(6)))
    assert codes == [201, 409, 409, 409, 409, 409]


def test_bad_input_gets_problem_json_and_writes_nothing(platform: RunningPlatform) -> None:
    api = platform.api
    email = new_email()
    cases = [
        (b"{not json", 400),
        (json.dumps({"email": email, "password": PASSWORD, "full_name": "A",
                     "role": "wizard"}).encode(), 422),
        (json.dumps({"email": "not-an-email", "password": PASSWORD, "full_name": "A",
                     "role": "student"}).encode(), 422),
        (json.dumps({"email": email, "password": "short", "full_name": "A",
                     "role": "student"}).encode(), 422),
        (json.dumps({"email": email, "password": "password123", "full_name": "A",
                     "role": "student"}).encode(), 422),
        (json.dumps({"email": email, "password": 12345678901, "full_name": "A",
                     "role": "student"}).encode(), 422),
        (json.dumps({"email": email}).encode(), 422),
        (json.dumps({"email": email, "password": PASSWORD, "full_name": "A" * 70_000,
                     "role": "student"}).encode(), 413),
    ]
    for raw, status in cases:
        resp = httpx.post(f"{api}/auth/register", content=raw,
                          headers={"content-type": "application/json"})
        body = problem(resp, status)
        if status == 422:
            assert body["errors"], body
    weak = problem(httpx.post(f"{api}/auth/register", json={
        "email": email, "password": "password123", "full_name": "A", "role": "student"}), 422)
    assert weak["errors"][0]["field"] == "password"
    # Nothing was written: the email is still free.
    assert register(api, email=email)["email"] == email


def test_login_failures_look_the_same(platform: RunningPlatform) -> None:
    api = platform.api
    email = register(api)["email"]
    wrong = problem(httpx.post(f"{api}/auth/login", json={"email": email,
                                                          "password": "wrong password!"}), 401)
    unknown = problem(httpx.post(f"{api}/auth/login", json={"email": new_email(),
                                                            "password": "wrong password!"}), 401)
    assert wrong["detail"] == unknown["detail"]


def spend(api: str, refresh_token: str) -> httpx.Response:
    return httpx.post(f"{api}/auth/refresh", json={"refresh_token": refresh_token})


def test_refresh_rotation_and_reuse_detection(platform: RunningPlatform) -> None:
    api = platform.api
    first = login(api, register(api)["email"])
    lost = spend(api, first["refresh_token"])
    assert lost.status_code == 200, lost.text
    assert lost.json()["refresh_token"] != first["refresh_token"]
    # Its answer never arrived (the page navigated away): the same token, spent again at
    # once, renews the session instead of ending it ...
    retried = spend(api, first["refresh_token"])
    assert retried.status_code == 200, retried.text
    pair = spend(api, retried.json()["refresh_token"]).json()
    # ... but a token two rotations old is a copy someone kept: reuse detected.
    reuse = spend(api, first["refresh_token"])
    assert problem(reuse, 401)["detail"].startswith("This refresh token was already used")
    assert reuse.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    # Theft detected: the whole family is revoked, the newest token too ...
    problem(spend(api, pair["refresh_token"]), 401)
    # ... and its access tokens stop working within seconds, not at their expiry.
    assert_ends_soon(api, pair["access_token"])


def assert_ends_soon(api: str, access_token: str) -> None:
    """The access token is refused within the revocation cache's few seconds."""
    deadline = time.monotonic() + 15
    while (me := httpx.get(f"{api}/me", headers=bearer(access_token))).status_code == 200:
        assert time.monotonic() < deadline, "the ended session's access token still works"
        time.sleep(0.5)
    assert problem(me, 401)["detail"].startswith("This session has ended")


def test_browsers_keep_the_refresh_token_in_an_http_only_cookie(
        platform: RunningPlatform) -> None:
    api = platform.api
    email = register(api)["email"]
    with httpx.Client(base_url=api) as browser:
        signed_in = browser.post("/auth/login", json={"email": email, "password": PASSWORD})
        assert signed_in.status_code == 200, signed_in.text
        cookie = signed_in.headers["set-cookie"]
        assert cookie.startswith("edu_refresh=") and "HttpOnly" in cookie
        assert "SameSite=Strict" in cookie and "Path=/auth/" in cookie and "Secure" in cookie
        # httpx keeps Secure cookies only for https: send it as the browser would
        token = cookie.split(";", 1)[0].split("=", 1)[1]
        assert token == signed_in.json()["refresh_token"]
        renewed = browser.post("/auth/refresh", json={}, headers={
            "Cookie": f"edu_refresh={token}"})
        assert renewed.status_code == 200, renewed.text
        rotated = renewed.headers["set-cookie"].split(";", 1)[0].split("=", 1)[1]
        assert rotated == renewed.json()["refresh_token"] != token
        problem(browser.post("/auth/refresh", json={}), 401)  # neither body nor cookie
        out = browser.post("/auth/logout", json={}, headers={
            **bearer(renewed.json()["access_token"]), "Cookie": f"edu_refresh={rotated}"})
        assert out.status_code == 204 and "Max-Age=0" in out.headers["set-cookie"]
        problem(browser.post("/auth/refresh", json={"refresh_token": rotated}), 401)


def test_logout_ends_the_session(platform: RunningPlatform) -> None:
    api = platform.api
    tokens = login(api, register(api)["email"])
    out = httpx.post(f"{api}/auth/logout", headers=bearer(tokens["access_token"]))
    assert out.status_code == 204, out.text
    problem(httpx.post(f"{api}/auth/refresh",
                       json={"refresh_token": tokens["refresh_token"]}), 401)
    assert_ends_soon(api, tokens["access_token"])


def test_jwks_and_openid_configuration(platform: RunningPlatform) -> None:
    api = platform.api
    conf = httpx.get(f"{api}/.well-known/openid-configuration").json()
    assert conf["issuer"] == api and conf["jwks_uri"] == f"{api}/.well-known/jwks.json"
    keys = httpx.get(conf["jwks_uri"]).json()["keys"]
    assert keys and all(k["kid"] and k["kty"] == "RSA" and "d" not in k for k in keys)
    token = login(api, register(api)["email"])["access_token"]
    assert jwt.get_unverified_header(token)["kid"] in {k["kid"] for k in keys}


def test_teacher_verification_by_an_admin(platform: RunningPlatform, cloud: LocalCloud) -> None:
    api = platform.api
    teacher = register(api, role="teacher")
    t_tokens = login(api, teacher["email"])
    student_tokens = login(api, register(api)["email"])
    admin_email = new_email("admin")
    create_admin(cloud, admin_email, PASSWORD, "Root")
    admin_tokens = login(api, admin_email)

    request = {"bio": "I teach distributed systems at a university.",
               "link": "https://example.com/me"}
    problem(httpx.post(f"{api}/teachers/me/verification", json=request,
                       headers=bearer(student_tokens["access_token"])), 403)
    submitted = httpx.post(f"{api}/teachers/me/verification", json=request,
                           headers=bearer(t_tokens["access_token"]))
    assert submitted.status_code == 202 and submitted.json()["verification_status"] == "pending"

    verify = f"{api}/admin/teachers/{teacher['id']}/verify"
    problem(httpx.post(verify, headers=bearer(t_tokens["access_token"])), 403)
    done = httpx.post(verify, headers=bearer(admin_tokens["access_token"]))
    assert done.status_code == 200, done.text
    assert done.json()["is_verified"] is True
    problem(httpx.post(verify, headers=bearer(admin_tokens["access_token"])), 409)
    # New tokens carry the new status.
    fresh = login(api, teacher["email"])["access_token"]
    assert jwt.decode(fresh, options={"verify_signature": False})["is_verified"] is True
    problem(httpx.post(f"{api}/admin/teachers/{student_tokens['access_token'][:8]}/verify",
                       headers=bearer(admin_tokens["access_token"])), 404)
