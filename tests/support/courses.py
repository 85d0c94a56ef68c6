"""Helpers to author courses through the public API."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.support.identity import bearer


def course_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Python for Data Engineers", "subtitle": "Pipelines that do not break",
        "description": "Batch and streaming jobs, testing, and deployment.",
        "category": "programming", "level": "intermediate", "language": "en",
        "price": {"amount": 1999, "currency": "usd"}, "tags": ["python", "data"]}
    body.update(overrides)
    return body


def create_course(api: str, token: str, **overrides: Any) -> dict[str, Any]:
    resp = httpx.post(f"{api}/courses", json=course_body(**overrides), headers=bearer(token),
                      timeout=30)
    assert resp.status_code == 201, resp.text
    data: dict[str, Any] = resp.json()
    return data


def add_text_lesson(api: str, token: str, course_id: str, *, free_preview: bool = False
                    ) -> tuple[str, str]:
    section = httpx.post(f"{api}/courses/{course_id}/sections", json={"title": "Basics"},
                         headers=bearer(token), timeout=30)
    assert section.status_code == 201, section.text
    sid = section.json()["id"]
    lesson = httpx.post(f"{api}/courses/{course_id}/sections/{sid}/lessons", json={
        "title": "Hello", "kind": "text", "body": "Read me.", "free_preview": free_preview},
        headers=bearer(token), timeout=30)
    assert lesson.status_code == 201, lesson.text
    return sid, lesson.json()["id"]


def published_course(api: str, token: str, **overrides: Any) -> dict[str, Any]:
    course = create_course(api, token, **overrides)
    add_text_lesson(api, token, course["id"])
    resp = httpx.post(f"{api}/courses/{course['id']}/publish", headers=bearer(token),
                      timeout=30)
    assert resp.status_code == 200, resp.text
    data: dict[str, Any] = resp.json()
    return data


def unique_category() -> str:
    return f"cat-{uuid.uuid4().hex[:10]}"
