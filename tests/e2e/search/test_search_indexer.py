"""Publishing a course reaches the search indexer through the bus (rule -> queue ->
function); without Meilisearch the indexer acknowledges and search is served by PostgreSQL."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

from tests.support.courses import published_course
from tests.support.platform import RunningPlatform


def indexer_stats(platform: RunningPlatform) -> dict[str, Any]:
    report = httpx.get(f"{platform.lambda_api}/_edu/report", timeout=10).json()
    stats: dict[str, Any] = report.get("SearchIndexerFunction") or {"invocations": 0,
                                                                    "errors": 0}
    return stats


def test_publish_invokes_the_indexer_and_search_still_answers(
        platform: RunningPlatform, teacher: dict[str, Any]) -> None:
    before = indexer_stats(platform)["invocations"]
    word = f"zebra{uuid.uuid4().hex[:6]}"
    course = published_course(platform.api, teacher["access_token"],
                              title=f"Course about {word}")
    deadline = time.monotonic() + 20
    while (stats := indexer_stats(platform))["invocations"] <= before:
        assert time.monotonic() < deadline, platform.log_tail()
        time.sleep(0.3)
    assert stats["errors"] == 0
    found = httpx.get(f"{platform.api}/search", params={"q": word}, timeout=30).json()
    assert [h["course"]["id"] for h in found["items"]] == [course["id"]]
    assert found["items"][0]["match"] != "meili"
