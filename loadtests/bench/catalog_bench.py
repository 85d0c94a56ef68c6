"""Catalog and search at 100K courses, server-side (the service with its real PostgreSQL
and Redis adapters, timed in-process). Not a test: prints numbers for docs/benchmarks.md.

    .venv/bin/python loadtests/bench/catalog_bench.py [--courses 100000] [--runs 300]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for extra in ("infra", "shared"):
    sys.path.insert(0, str(ROOT / extra))

import redis  # noqa: E402
from psycopg_pool import ConnectionPool  # noqa: E402

from edu.adapters.pg_courses import PgCourseRepository  # noqa: E402
from edu.adapters.redis_cache import RedisCache  # noqa: E402
from edu.adapters.registry import configure_session  # noqa: E402
from edu.courses.models import CatalogQuery, SearchQuery  # noqa: E402
from edu.courses.service import CourseService  # noqa: E402
from edu.pagination import CursorCodec  # noqa: E402
from localcloud.seed import seed_courses  # noqa: E402
from localcloud.stack import throwaway_cloud  # noqa: E402

QUERIES = ["python", "kubernetes", "deep learning project", "watercolor", "pythn",
           "kubernets operatrs", "music theory for teams", "spanish"]


def timed(fn: Callable[[], Any], runs: int) -> dict[str, float]:
    for _ in range(min(20, runs)):
        fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return {"p50": statistics.median(times), "p99": times[int(len(times) * 0.99) - 1],
            "max": times[-1]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--courses", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    with throwaway_cloud(ROOT) as cloud:
        seconds = seed_courses(cloud.database_url, args.courses)
        print(f"seeded {args.courses} courses in {seconds:.1f}s")
        with ConnectionPool(cloud.database_url, min_size=1, max_size=2,
                            kwargs={"autocommit": True}, configure=configure_session) as pool:
            repo = PgCourseRepository(pool)
            client = redis.Redis.from_url(cloud.redis_url)
            cache = RedisCache(client, ttl_s=300)

            class NoCache:
                def get_or_load(self, key: str, load: Callable[[], str | None],
                                ttl_s: int | None = None) -> str | None:
                    return load()

                def invalidate(self, *keys: str) -> None:
                    pass

                def catalog_generation(self) -> int:
                    return 0

                def bump_catalog(self) -> None:
                    pass

            ranked = CourseService(repo, cache, CursorCodec("b"), ranked_search=True)
            naive = CourseService(repo, cache, CursorCodec("b"), ranked_search=False)
            uncached = CourseService(repo, NoCache(), CursorCodec("b"))
            rows: list[tuple[str, dict[str, float]]] = []
            for q in QUERIES:
                n = ranked.search(SearchQuery(q=q))
                mode = n.items[0].match if n.items else "-"
                rows.append((f"search ranked {q!r} ({mode})",
                             timed(lambda q=q: ranked.search(SearchQuery(q=q)), args.runs)))
                rows.append((f"search naive  {q!r}",
                             timed(lambda q=q: naive.search(SearchQuery(q=q)), args.runs // 3)))
            first = CatalogQuery(category="programming")
            rows.append(("catalog first page, from PostgreSQL",
                         timed(lambda: uncached.catalog(first), args.runs)))
            rows.append(("catalog first page, from Redis cache",
                         timed(lambda: ranked.catalog(first), args.runs)))
            page = uncached.catalog(CatalogQuery(sort="title"))
            deep = CatalogQuery(sort="title", cursor=page.next_cursor)
            rows.append(("catalog next page by title (keyset), PostgreSQL",
                         timed(lambda: uncached.catalog(deep), args.runs)))
            course_id = page.items[0].id
            rows.append(("course by id, PostgreSQL",
                         timed(lambda: uncached.get(course_id, None), args.runs)))
            rows.append(("course by id, Redis cache",
                         timed(lambda: ranked.get(course_id, None), args.runs)))
    print(f"\n### Catalog and search at {args.courses} courses (server-side, ms)\n")
    print("| operation | p50 | p99 | max |")
    print("|---|---|---|---|")
    for name, r in rows:
        print(f"| {name} | {r['p50']:.2f} | {r['p99']:.2f} | {r['max']:.2f} |")


if __name__ == "__main__":
    main()
