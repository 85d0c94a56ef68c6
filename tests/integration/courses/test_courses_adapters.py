"""Course adapters against real PostgreSQL and Redis: naive search baseline, cache
degradation and stampede protection, outbox retries."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
from psycopg_pool import ConnectionPool

from edu.adapters.outbox import OutboxRelay
from edu.adapters.pg_courses import PgCourseRepository, write_outbox
from edu.adapters.redis_cache import RedisCache
from edu.courses.models import SearchQuery
from edu.courses.service import CourseService
from edu.events import Envelope, make_event
from edu.pagination import CursorCodec
from localcloud.stack import LocalCloud
from tests.support.authoring import authored_course


def service(pool: ConnectionPool, cache: RedisCache, ranked: bool = True) -> CourseService:
    return CourseService(PgCourseRepository(pool), cache, CursorCodec("s"), ranked_search=ranked)


def redis_cache(cloud: LocalCloud, failures: list[Exception] | None = None,
                url: str | None = None) -> RedisCache:
    client = redis.Redis.from_url(url or cloud.redis_url, socket_connect_timeout=0.3,
                                  socket_timeout=0.3)
    sink = failures if failures is not None else []
    return RedisCache(client, ttl_s=60, prefix=f"t{uuid.uuid4().hex[:6]}:",
                      on_unavailable=sink.append)


def test_naive_search_is_the_ilike_baseline(pool: ConnectionPool, cloud: LocalCloud) -> None:
    category = f"c-{uuid.uuid4().hex[:8]}"
    ranked, naive = service(pool, redis_cache(cloud)), service(pool, redis_cache(cloud), False)
    cid, _ = authored_course(ranked, "Python Testing", category)
    exact = naive.search(SearchQuery(q="python", category=category))
    assert [h.course.id for h in exact.items] == [cid]
    assert naive.search(SearchQuery(q="pythn", category=category)).items == []  # no typos
    assert [h.course.id for h in ranked.search(SearchQuery(q="pythn", category=category))
            .items] == [cid]


def test_reads_survive_redis_being_down(pool: ConnectionPool, cloud: LocalCloud) -> None:
    category = f"c-{uuid.uuid4().hex[:8]}"
    cid, _ = authored_course(service(pool, redis_cache(cloud)), "Go Concurrency", category)
    failures: list[Exception] = []
    down = service(pool, redis_cache(cloud, failures, url="redis://127.0.0.1:1/0"))
    assert down.get(cid, None).title == "Go Concurrency"
    from edu.courses.models import CatalogQuery

    page = down.catalog(CatalogQuery(category=category))
    assert [c.id for c in page.items] == [cid]
    assert failures  # degraded mode is reported


def test_cache_stampede_loads_once(cloud: LocalCloud) -> None:
    cache = redis_cache(cloud)
    calls: list[int] = []

    def slow_load() -> str:
        calls.append(1)
        time.sleep(0.2)
        return "value"

    results: list[str | None] = []
    threads = [threading.Thread(target=lambda: results.append(
        cache.get_or_load("hot", slow_load))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["value"] * 8
    assert len(calls) == 1


def test_search_and_later_catalog_pages_are_cached_until_the_catalog_changes(
        pool: ConnectionPool, cloud: LocalCloud) -> None:
    from edu.courses.models import CatalogQuery

    category = f"c-{uuid.uuid4().hex[:8]}"
    svc = service(pool, redis_cache(cloud))
    ids = [authored_course(svc, f"Elixir Course {n}", category)[0] for n in range(3)]
    search = SearchQuery(q="elixir", category=category)
    first_search = svc.search(search)
    page1 = svc.catalog(CatalogQuery(category=category, limit=2))
    assert page1.next_cursor is not None
    page2 = svc.catalog(CatalogQuery(category=category, limit=2, cursor=page1.next_cursor))
    assert {c.id for c in page1.items + page2.items} == set(ids)

    # A write behind the service's back (no cache invalidation): reads still come from Redis.
    with pool.connection() as conn:
        conn.execute("UPDATE courses SET title = 'Renamed' WHERE id = ANY(%s::uuid[])", (ids,))
    assert svc.search(search) == first_search
    assert svc.catalog(CatalogQuery(category=category, limit=2, cursor=page1.next_cursor)
                       ) == page2
    # The handlers' path: the cached JSON text as it was stored, not parsed and re-encoded.
    assert svc.search_json(search) == first_search.model_dump_json()
    assert svc.catalog_json(CatalogQuery(category=category, limit=2,
                                         cursor=page1.next_cursor)) == page2.model_dump_json()

    # Any public change moves the catalog generation: nothing cached before is served.
    authored_course(svc, "Unrelated", f"c-{uuid.uuid4().hex[:8]}")
    assert svc.search(search).items == []  # no course is called Elixir any more
    assert {h.course.id for h in svc.search(SearchQuery(q="renamed", category=category)
                                            ).items} == set(ids)
    renamed = svc.catalog(CatalogQuery(category=category, limit=2, cursor=page1.next_cursor))
    assert [c.title for c in renamed.items] == ["Renamed"] * len(renamed.items)


class FlakyPublisher:
    def __init__(self) -> None:
        self.fail = True
        self.published: list[Envelope] = []

    def publish(self, events: list[Envelope]) -> None:
        if self.fail:
            raise ConnectionError("bus unreachable")
        self.published.extend(events)


def test_outbox_keeps_events_until_the_bus_takes_them(pool: ConnectionPool) -> None:
    event = make_event("course.updated", {"course_id": str(uuid.uuid4()), "teacher_id": "t",
                                          "status": "draft", "version": 2,
                                          "changed": ["title"]}, source="test")
    with pool.connection() as conn, conn.transaction():
        write_outbox(conn, [event])
    publisher = FlakyPublisher()
    relay = OutboxRelay(pool, publisher)
    with pytest.raises(ConnectionError):
        relay.relay()
    with pool.connection() as conn:
        row: Any = conn.execute("SELECT attempts, published_at FROM outbox WHERE id = %s",
                                (event.id,)).fetchone()
    assert row[0] == 1 and row[1] is None  # still pending, failure counted
    publisher.fail = False
    while relay.relay():
        pass
    assert event.id in {e.id for e in publisher.published}
    with pool.connection() as conn:
        row = conn.execute("SELECT published_at FROM outbox WHERE id = %s",
                           (event.id,)).fetchone()
    assert row[0] is not None and row[0] <= datetime.now(UTC)
