"""Meilisearch as the course search index (optional: `MEILI_URL`). Documents carry the whole
public course, so a search answers without a PostgreSQL round trip; PostgreSQL stays the
source of truth and the fallback (`CourseService.search`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from edu.courses.models import Course, SearchQuery
from edu.courses.ports import Hit

# Ranking follows searchableAttributes order: title > subtitle > tags > description.
INDEX_SETTINGS: dict[str, Any] = {
    "searchableAttributes": ["title", "subtitle", "tags", "description"],
    "filterableAttributes": ["category", "level", "language", "price_amount", "teacher_id"],
    "sortableAttributes": ["published_ts", "price_amount"],
    "typoTolerance": {"enabled": True, "minWordSizeForTypos": {"oneTypo": 4, "twoTypos": 8}},
}


def course_document(course: Course) -> dict[str, Any]:
    doc = course.model_dump(mode="json")
    doc["price_amount"] = course.price.amount
    doc["published_ts"] = int(course.published_at.timestamp()) if course.published_at else 0
    return doc


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def search_filter(query: SearchQuery) -> list[str]:
    filters = [f"{name} = {_quote(value)}" for name, value in (
        ("category", query.category), ("level", query.level), ("language", query.language),
        ("teacher_id", query.teacher_id)) if value]
    if query.price == "free":
        filters.append("price_amount = 0")
    elif query.price == "paid":
        filters.append("price_amount > 0")
    return filters


class MeiliCourseIndex:
    def __init__(self, url: str, api_key: str | None, index: str = "courses",
                 timeout_s: int = 2) -> None:
        import meilisearch

        self.client = meilisearch.Client(url, api_key, timeout=timeout_s)
        self.uid = index
        self.index = self.client.index(index)

    def configure(self) -> None:
        """Creates the index (if missing) and applies its settings; waits for both."""
        from meilisearch.errors import MeilisearchApiError

        try:
            self.client.get_index(self.uid)
        except MeilisearchApiError:
            task = self.client.create_index(self.uid, {"primaryKey": "id"})
            self.client.wait_for_task(task.task_uid, timeout_in_ms=30_000)
        task = self.index.update_settings(INDEX_SETTINGS)
        self.client.wait_for_task(task.task_uid, timeout_in_ms=30_000)

    def upsert(self, courses: Iterable[Course], wait: bool = False) -> int:
        docs = [course_document(c) for c in courses]
        if docs:
            task = self.index.add_documents(docs, primary_key="id")
            if wait:
                self.client.wait_for_task(task.task_uid, timeout_in_ms=60_000)
        return len(docs)

    def delete(self, course_ids: list[str], wait: bool = False) -> None:
        if course_ids:
            task = self.index.delete_documents(list(course_ids))
            if wait:
                self.client.wait_for_task(task.task_uid, timeout_in_ms=60_000)

    def search(self, query: SearchQuery, offset: int, limit: int) -> list[Hit]:
        result = self.index.search(query.q, {
            "offset": offset, "limit": limit, "filter": search_filter(query),
            "attributesToHighlight": ["title"], "highlightPreTag": "<mark>",
            "highlightPostTag": "</mark>", "showRankingScore": True})
        hits = []
        for doc in result.get("hits", []):
            formatted = doc.pop("_formatted", {}) or {}
            score = float(doc.pop("_rankingScore", 0.0))
            for extra in ("price_amount", "published_ts"):
                doc.pop(extra, None)
            course = Course.model_validate(doc)
            hits.append(Hit(course=course, score=score,
                            highlight=str(formatted.get("title") or course.title),
                            mode="meili"))
        return hits

