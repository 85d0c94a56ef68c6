"""Secrets never reach the logs: after a session of sign-up, sign-in, token refresh and a
paid enrollment, the platform's whole captured output (gateway, runtime, every function's
stdout/stderr) holds no password, token, payment client secret or signing key."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.courses import published_course
from tests.support.identity import bearer, login, register
from tests.support.platform import RunningPlatform

PASSWORD = "Tr0ub4dor & 3 unlogged secrets"


def test_no_secret_in_the_captured_logs(platform: RunningPlatform,
                                        teacher: dict[str, Any]) -> None:
    api = platform.api
    user = register(api, password=PASSWORD)
    wrong = httpx.post(f"{api}/auth/login", json={"email": user["email"],
                                                 "password": PASSWORD + "x"}, timeout=30)
    assert wrong.status_code == 401  # failures are logged paths too
    tokens = login(api, user["email"], PASSWORD)
    refreshed = httpx.post(f"{api}/auth/refresh",
                           json={"refresh_token": tokens["refresh_token"]}, timeout=30)
    assert refreshed.status_code == 200, refreshed.text
    assert httpx.get(f"{api}/me", headers=bearer(tokens["access_token"]),
                     timeout=30).status_code == 200
    course = published_course(api, teacher["access_token"])  # a paid course
    paying = httpx.post(f"{api}/courses/{course['id']}/enroll",
                        headers=bearer(refreshed.json()["access_token"]), timeout=30)
    assert paying.status_code == 202, paying.text

    log = platform.log.read_text(errors="replace")
    assert "[RegisterFunction]" in log  # function output is captured here
    secrets = {
        "password": PASSWORD,
        "access token": tokens["access_token"],
        "refresh token": tokens["refresh_token"],
        "rotated refresh token": refreshed.json()["refresh_token"],
        "payment client secret": paying.json()["client_secret"],
        "Stripe secret key": "sk_test_local",
    }
    leaked = [name for name, value in secrets.items() if value in log]
    assert not leaked, f"found in the logs: {leaked}"
    assert "PRIVATE KEY" not in log
    # A signature fragment would betray a token even if cut: its last 20 characters.
    assert tokens["access_token"][-20:] not in log
