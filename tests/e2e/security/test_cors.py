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
