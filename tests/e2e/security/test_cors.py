"""CORS answers only the configured origins (AllowedOrigins), never any origin."""

import httpx

from tests.support.platform import RunningPlatform


def test_only_configured_origins_get_cors_headers(platform: RunningPlatform) -> None:
    # The local stack allows the API's own origin, where the web app is served.
    origin = platform.api.rstrip("/")
    allowed = httpx.options(f"{platform.api}/courses", timeout=30, headers={
        "Origin": origin, "Access-Control-Request-Method": "POST"})
    assert allowed.headers["access-control-allow-origin"] == origin
    assert "authorization" in allowed.headers["access-control-allow-headers"]
    foreign = httpx.get(f"{platform.api}/courses", timeout=30,
                        headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 200
    assert "access-control-allow-origin" not in foreign.headers


def test_cors_answers_vary_by_origin(platform: RunningPlatform) -> None:
    origin = platform.api.rstrip("/")
    answer = httpx.get(f"{platform.api}/courses", timeout=30, headers={"Origin": origin})
    assert answer.headers["access-control-allow-origin"] == origin
    assert "origin" in answer.headers["vary"].lower()  # a shared cache keeps one per origin


def test_every_api_answer_carries_the_security_headers(platform: RunningPlatform) -> None:
    from tests.support.identity import bearer, login, register

    public = httpx.get(f"{platform.api}/courses", timeout=30)
    missing = httpx.get(f"{platform.api}/courses/not-a-course", timeout=30)
    token = login(platform.api, register(platform.api)["email"])["access_token"]
    mine = httpx.get(f"{platform.api}/me", headers=bearer(token), timeout=30)
    for answer in (public, missing, mine):
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        assert answer.headers["strict-transport-security"].startswith("max-age=")
    assert mine.headers["cache-control"] == "no-store"  # a caller's own data is not cached
    assert "no-store" not in public.headers.get("cache-control", "")
