"""The analytics reads at seed scale (100K courses, 500K enrollments): seeding builds the
read models as the projector would, and no dashboard or course-report query scans an
analytics table (or courses) sequentially."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from edu.adapters.pg_analytics import PgAnalyticsStore
from edu.adapters.registry import configure_session
from edu.analytics.models import AnalyticsQuery
from edu.analytics.service import AnalyticsService
from edu.auth.claims import Caller
from localcloud.seed import seed_analytics, seed_courses
from localcloud.stack import LocalCloud
from tests.support.databases import scratch_database
from tests.support.plans import RECORDED, RecordingCursor, assert_no_seq_scans

ENROLLMENTS, STUDENTS = 500_000, 45_000
TABLES = {"courses", "analytics_students", "analytics_course_daily",
          "analytics_revenue_daily", "analytics_lesson_completions"}


@pytest.fixture(scope="module")
def seeded(cloud: LocalCloud) -> Iterator[str]:
    with scratch_database(cloud.database_url, "analytics") as url:
        seed_courses(url, 100_000)
        with psycopg.connect(url) as conn:
            courses = [r[0] for r in conn.execute(
                "SELECT id::text FROM courses WHERE status = 'published' ORDER BY id")]
        rng = random.Random(42)
        pairs = {(f"seed-student-{rng.randrange(STUDENTS)}", rng.choice(courses))
                 for _ in range(ENROLLMENTS)}
        seed_analytics(url, sorted(pairs))
        yield url


def test_seeded_rollups_agree_with_the_seeded_students(seeded: str) -> None:
    with psycopg.connect(seeded) as conn:
        students, completed = conn.execute(
            "SELECT count(*), count(completed_at) FROM analytics_students").fetchone() or (0, 0)
        enrolled, completions = conn.execute(
            "SELECT sum(enrollments), sum(completions) FROM analytics_course_daily"
        ).fetchone() or (0, 0)
    assert students > 0.95 * ENROLLMENTS  # a few random pairs repeat
    assert (enrolled, completions) == (students, completed) and completed > 0


def test_analytics_reads_use_indexes_at_seed_scale(seeded: str) -> None:
    def configure(conn: psycopg.Connection[Any]) -> None:
        configure_session(conn)
        conn.cursor_factory = RecordingCursor

    with ConnectionPool(seeded, min_size=1, max_size=2, configure=configure,
                        kwargs={"autocommit": True}) as pool:
        with pool.connection() as conn:
            teacher_id, course_id = conn.execute(
                "SELECT teacher_id, course_id::text FROM analytics_course_daily "
                "GROUP BY 1, 2 ORDER BY sum(enrollments) DESC LIMIT 1").fetchone() or ("", "")
        service = AnalyticsService(PgAnalyticsStore(pool), clock=lambda: datetime.now(UTC))
        who = Caller(user_id=teacher_id, email="", role="teacher", is_verified=True,
                     session_id=None)
        RECORDED.clear()
        board = service.dashboard(who)
        report = service.course_analytics(who, course_id, AnalyticsQuery.model_validate(
            {"granularity": "week", "from": "2026-01-01"}))
        queries = list(RECORDED)
    assert board.enrollments > 0 and board.students > 0 and board.top_courses
    assert report.students > 0 and report.lessons
    assert len(queries) >= 8
    with psycopg.connect(seeded, autocommit=True) as conn:
        configure_session(conn)
        assert_no_seq_scans(conn, queries, TABLES)
