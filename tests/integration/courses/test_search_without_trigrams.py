"""On a PostgreSQL without contrib (the pgserver wheel's binaries, the last-resort embedded
server) everything migrates and search works, without typo correction, and says so."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from psycopg_pool import ConnectionPool

from edu.adapters.migrations import migrate
from edu.adapters.pg_courses import PgCourseRepository
from edu.adapters.redis_cache import RedisCache
from edu.auth.claims import Caller
from edu.courses.models import CourseIn, LessonIn, Money, SearchQuery, SectionIn
from edu.courses.service import CourseService
from edu.pagination import CursorCodec
from localcloud.backing import Service, pgserver_bindir, start_postgres
from localcloud.procs import free_port
from localcloud.stack import LocalCloud

TEACHER = Caller(user_id="t-nopg", email="t@example.com", role="teacher", is_verified=True,
                 session_id=None)


@pytest.fixture(scope="module")
def bare_postgres(tmp_path_factory: pytest.TempPathFactory,
                  monkeypatch_module: pytest.MonkeyPatch) -> Iterator[Service]:
    bindir = pgserver_bindir()
    if bindir is None:
        pytest.fail("the pgserver wheel is a dev dependency; reinstall with ./dev.sh setup")
    monkeypatch_module.setenv("EDU_PG_BIN", str(bindir))
    home: Path = tmp_path_factory.mktemp("pgserver")
    service = start_postgres(home / "data", free_port(), home / "pg.log", durable=False)
    yield service
    service.stop()


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_migrations_and_search_degrade_without_pg_trgm(bare_postgres: Service,
                                                       cloud: LocalCloud) -> None:
    import redis

    assert migrate(bare_postgres.url)  # every migration applies
    degraded: list[str] = []
    with ConnectionPool(bare_postgres.url, min_size=1, max_size=2,
                        kwargs={"autocommit": True}) as pool:
        repo = PgCourseRepository(pool, on_degraded=degraded.append)
        service = CourseService(repo, RedisCache(redis.Redis.from_url(cloud.redis_url),
                                                 ttl_s=60, prefix="nopg:"), CursorCodec("x"))
        course = service.create(TEACHER, CourseIn(
            title="Python Testing", category="programming", level="beginner", language="en",
            price=Money(amount=0, currency="usd")))
        section = service.add_section(TEACHER, course.id, SectionIn(title="S"))
        service.add_lesson(TEACHER, course.id, section.id, LessonIn(title="L", kind="text"))
        service.publish(TEACHER, course.id)
        assert [h.course.id for h in service.search(SearchQuery(q="python")).items] == \
            [course.id]
        assert service.search(SearchQuery(q="pythn")).items == []
        assert repo.typo_tolerant() is False
        assert degraded and "typo tolerance" in degraded[0]
