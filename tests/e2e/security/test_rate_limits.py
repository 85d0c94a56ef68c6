"""Rate limits on search (per source IP) and writes (per user): past the limit, 429 with a
Retry-After and a problem document; other callers are unaffected."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.courses import create_course
from tests.support.identity import bearer, verified_teacher
from tests.support.platform import RunningPlatform

SEARCH_LIMIT, WRITE_LIMIT = 300, 120  # the template's defaults


def from_address(address: str) -> httpx.Client:
    """A client whose requests come from another loopback address (its own source IP)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=30)


def test_search_is_limited_per_source_ip(platform: RunningPlatform) -> None:
    with from_address("127.0.0.2") as client:
        codes = [client.get(f"{platform.api}/search", params={"q": "python"}).status_code
                 for _ in range(SEARCH_LIMIT)]
        assert set(codes) == {200}
        refused = client.get(f"{platform.api}/search", params={"q": "python"})
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["content-type"].startswith("application/problem+json")
    # Another source address still searches.
    assert httpx.get(f"{platform.api}/search", params={"q": "python"},
                     timeout=30).status_code == 200


def test_writes_are_limited_per_user(platform: RunningPlatform, teacher: dict[str, Any],
                                     admin_token: str) -> None:
    api = platform.api
    course = create_course(api, teacher["access_token"])
    token = teacher["access_token"]
    codes = [httpx.patch(f"{api}/courses/{course['id']}", json={"subtitle": f"v{i}"},
                         headers=bearer(token), timeout=30).status_code
             for i in range(WRITE_LIMIT - 1)]  # creating the course was the first write
    assert 429 not in codes, codes
    refused = httpx.patch(f"{api}/courses/{course['id']}", json={"subtitle": "one more"},
                          headers=bearer(token), timeout=30)
    assert refused.status_code == 429 and "retry-after" in refused.headers
    # The limit is this user's: another teacher's write goes through.
    other = verified_teacher(api, admin_token)
    assert create_course(api, other["access_token"])["id"]
