"""What shaping a JSON response costs a handler: a catalog page of 20 courses serialised the
old way (model_dump + json.dumps) against pydantic's own JSON encoder, and a page read from
the cache (validated, then serialised; or sent as stored). Same process, same data, median
of 7 x 500.

    .venv/bin/python loadtests/bench/response_bench.py
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from edu.courses.models import CourseOut, Money
from edu.http import JsonText, json_response
from edu.pagination import Page


def sample_page() -> Page[CourseOut]:
    now = datetime.now(UTC)
    return Page[CourseOut](items=[CourseOut(
        id=str(uuid.uuid4()), teacher_id=str(uuid.uuid4()), title=f"Course número {i}",
        subtitle="Learn things", description="x" * 400, category="programming",
        level="beginner", language="en", price=Money(amount=1999, currency="usd"),
        tags=["a", "b"], status="published", version=3, created_at=now, updated_at=now,
        published_at=now) for i in range(20)], next_cursor="c" * 60)


def median_us(fn: Callable[[], object]) -> float:
    runs = []
    for _ in range(7):
        started = time.perf_counter()
        for _ in range(500):
            fn()
        runs.append((time.perf_counter() - started) / 500 * 1e6)
    return statistics.median(runs)


def main() -> None:
    page = sample_page()
    cached = page.model_dump_json()

    def before(body: Page[CourseOut]) -> str:
        return json.dumps(body.model_dump(mode="json"), separators=(",", ":"), default=str)

    assert json.loads(before(page)) == json.loads(json_response(200, page)["body"])
    rows = {
        "page: model_dump + json.dumps (before)": lambda: before(page),
        "page: json_response (pydantic JSON)": lambda: json_response(200, page),
        "cached page: validate + model_dump + json.dumps (before)":
            lambda: before(Page[CourseOut].model_validate_json(cached)),
        "cached page: validate + json_response": lambda: json_response(
            200, Page[CourseOut].model_validate_json(cached)),
        "cached page: sent as stored (JsonText)": lambda: json_response(200, JsonText(cached)),
    }
    assert json_response(200, JsonText(cached))["body"] == json_response(200, page)["body"]
    results = {name: median_us(fn) for name, fn in rows.items()}
    base = next(iter(results.values()))
    for name, us in results.items():
        print(f"{name:58} {us:8.1f} us  {base / us:5.2f}x")


if __name__ == "__main__":
    main()
