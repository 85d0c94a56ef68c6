"""Every catalog and search query the repository runs, EXPLAINed at 100K courses: none may
scan the courses table sequentially."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from edu.adapters.pg_courses import PgCourseRepository
from edu.adapters.registry import configure_session
from edu.courses.models import CatalogQuery, SearchQuery
from localcloud.seed import seed_courses
from localcloud.stack import LocalCloud
from tests.support.databases import scratch_database
from tests.support.plans import RECORDED, RecordingCursor, assert_no_seq_scans


@pytest.fixture(scope="module")
def seeded(cloud: LocalCloud) -> Iterator[str]:
    with scratch_database(cloud.database_url, "plans") as url:
        seed_courses(url, 100_000)
        yield url


CATALOG = [
    CatalogQuery(),
    CatalogQuery(sort="title"),
    CatalogQuery(sort="price"),
    CatalogQuery(category="devops"),
    CatalogQuery(category="art", level="beginner", price="free"),
    CatalogQuery(language="de", sort="title"),
    CatalogQuery(teacher_id="seed-teacher-42"),
]
SEARCH = ["python", "kubernetes operators", "pythn", "watercolr", "deep learning project",
          "kubernets operatrs"]


def test_catalog_and_search_queries_use_indexes(seeded: str) -> None:
    def configure(conn: psycopg.Connection[Any]) -> None:
        configure_session(conn)  # the same session settings as production pools
        conn.cursor_factory = RecordingCursor

    with ConnectionPool(seeded, min_size=1, max_size=2, configure=configure,
                        kwargs={"autocommit": True}) as pool:
        repo = PgCourseRepository(pool)
        RECORDED.clear()
        for query in CATALOG:
            first = repo.catalog(query, None, query.limit + 1)
            last = first[query.limit - 1]
            key = {"newest": last.published_at.isoformat() if last.published_at else None,
                   "title": last.title.lower(), "price": last.price.amount}[query.sort]
            repo.catalog(query, [key, last.id], query.limit + 1)  # a later page
        repo.catalog(CatalogQuery(teacher_id="seed-teacher-42"), None, 21, include_drafts=True)
        for q in SEARCH:
            hits = repo.search(SearchQuery(q=q), None, 21, ranked=True)
            assert hits, f"no results for {q!r}"
            repo.search(SearchQuery(q=q), [hits[-1].mode, hits[-1].score, hits[-1].course.id],
                        21, ranked=True)
            repo.search(SearchQuery(q=q, category="programming"), None, 21, ranked=True)
        queries = list(RECORDED)
    assert len(queries) >= 2 * len(CATALOG) + 3 * len(SEARCH)
    with psycopg.connect(seeded, autocommit=True) as conn:
        configure_session(conn)
        assert_no_seq_scans(conn, queries, {"courses"})
