"""The public catalog and search over courses, and the search index they feed: pages
served from the cache as stored JSON, search from the index when one answers and from
PostgreSQL otherwise (behind a circuit breaker). CourseService inherits these reads; they
share its repository, cache and cursor signer."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import BaseModel

from edu.auth.claims import Caller
from edu.breaker import CircuitBreaker
from edu.courses.models import CatalogQuery, Course, CourseOut, SearchHit, SearchQuery
from edu.courses.ports import BadPosition, CourseCache, CourseRepository, Hit, SearchIndex
from edu.errors import BadRequest, Conflict
from edu.ids import is_uuid
from edu.pagination import CursorCodec, Page

# The search index follows publishing through events, so a search answered between a change
# and its indexing could be cached stale; a short life bounds that (catalog pages are read
# from PostgreSQL itself and keep the configured TTL).
SEARCH_CACHE_TTL_S = 30


class CatalogAndSearch:
    repo: CourseRepository
    cache: CourseCache
    cursors: CursorCodec
    ranked_search: bool
    index: SearchIndex | None
    breaker: CircuitBreaker
    on_search_fallback: Callable[[str], None]

    # --- catalog and search -----------------------------------------------------------------

    def catalog(self, query: CatalogQuery, who: Caller | None = None) -> Page[CourseOut]:
        return Page[CourseOut].model_validate_json(self.catalog_json(query, who))

    def catalog_json(self, query: CatalogQuery, who: Caller | None = None) -> str:
        """The catalog page as JSON text: a public page comes from the cache as stored (the
        handler sends it on without parsing and re-encoding it)."""
        own = who is not None and query.teacher_id == who.user_id
        fingerprint = query.fingerprint() + f"|own={own}"
        after = (self.cursors.decode(query.cursor, fingerprint, ((str, int), str))
                 if query.cursor else None)
        if own:  # a teacher's own listing (drafts included) is not shared: no cache
            return self._catalog_page(query, after, fingerprint, own).model_dump_json()
        # Every public page, later ones too: visitors browse the same categories' pages.
        return self._cached_json("catalog", query, fingerprint,
                                 lambda: self._catalog_page(query, after, fingerprint, own))

    def _cached_json(self, kind: str, query: CatalogQuery, fingerprint: str,
                     load: Callable[[], BaseModel], ttl_s: int | None = None) -> str:
        """A public page's JSON through the cache, keyed by the catalog generation (so any
        public change retires every cached page), the page size, the query and the cursor."""
        key = (f"{kind}:{self.cache.catalog_generation()}:{query.limit}:{fingerprint}:"
               f"{_page_key(query.cursor)}")
        cached = self.cache.get_or_load(key, lambda: load().model_dump_json(), ttl_s=ttl_s)
        return load().model_dump_json() if cached is None else cached

    def _catalog_page(self, query: CatalogQuery, after: list[Any] | None, fingerprint: str,
                      own: bool) -> Page[CourseOut]:
        with _cursor_checked():
            rows = self.repo.catalog(query, after, query.limit + 1, include_drafts=own)
        items, more = rows[:query.limit], len(rows) > query.limit
        cursor = self.cursors.encode(self._sort_key(items[-1], query.sort, own), fingerprint) \
            if more and items else None
        return Page[CourseOut](items=[CourseOut.of(c) for c in items], next_cursor=cursor)

    @staticmethod
    def _sort_key(course: Course, sort: str, own: bool) -> list[Any]:
        if sort == "title":
            return [course.title.lower(), course.id]
        if sort == "price":
            return [course.price.amount, course.id]
        # A teacher's own listing includes drafts: it is ordered by creation, not publication.
        stamp = course.created_at if own or course.published_at is None else \
            course.published_at
        return [stamp.isoformat(), course.id]

    def search(self, query: SearchQuery) -> Page[SearchHit]:
        return Page[SearchHit].model_validate_json(self.search_json(query))

    def search_json(self, query: SearchQuery) -> str:
        """The search index when one is configured and answering; PostgreSQL otherwise.
        An index failure never reaches the caller: it is counted, and after a few in a row
        the circuit opens so requests stop waiting on a dead server."""
        fingerprint = query.fingerprint() + f"|ranked={self.ranked_search}"
        after = self.cursors.decode(query.cursor, fingerprint) if query.cursor else None
        return self._cached_json("search", query, fingerprint,
                                 lambda: self._search(query, after, fingerprint),
                                 ttl_s=SEARCH_CACHE_TTL_S)

    def _search(self, query: SearchQuery, after: list[Any] | None, fingerprint: str
                ) -> Page[SearchHit]:
        from_index = after is not None and after[0] == "meili"
        if self.index is not None and (after is None or from_index):
            offset = int(after[1]) if after else 0
            if self.breaker.allow():
                try:
                    hits = self.index.search(query, offset, query.limit + 1)
                except Exception as exc:  # any index failure: serve from PostgreSQL
                    self.breaker.failure()
                    self.on_search_fallback(f"index failed: {exc}")
                else:
                    self.breaker.success()
                    return self._search_page(
                        hits, query, lambda _last: ["meili", offset + query.limit],
                        fingerprint)
            else:
                self.on_search_fallback("index circuit open")
        if from_index:
            after = None  # an index cursor cannot continue in PostgreSQL: start over
        with _cursor_checked():
            hits = self.repo.search(query, after, query.limit + 1, ranked=self.ranked_search)
        return self._search_page(hits, query, lambda last: [last.mode, last.score,
                                                            last.course.id], fingerprint)

    def _search_page(self, hits: list[Hit], query: SearchQuery,
                     position: Callable[[Hit], list[Any]], fingerprint: str
                     ) -> Page[SearchHit]:
        items, more = hits[:query.limit], len(hits) > query.limit
        cursor = self.cursors.encode(position(items[-1]), fingerprint) \
            if more and items else None
        return Page[SearchHit](items=[SearchHit(course=CourseOut.of(h.course),
                                                score=round(h.score, 6),
                                                highlight=h.highlight, match=h.mode)
                                      for h in items],
                               next_cursor=cursor)

    # --- search index -----------------------------------------------------------------------

    def index_course(self, course_id: str) -> str:
        """Brings one course's search document in line with PostgreSQL (the source of
        truth, so events applied late or twice still end in the right state)."""
        if self.index is None:
            return "skipped: no search index configured"
        course = self.repo.get(course_id) if is_uuid(course_id) else None
        # Cached searches are keyed by the catalog generation: bumped again once the index
        # has the change, so a search cached while the index lagged is not served after.
        if course is not None and course.status == "published":
            self.index.upsert([course], wait=True)
            outcome = "indexed"
        else:
            self.index.delete([course_id], wait=True)
            outcome = "removed"
        self.cache.bump_catalog()
        return outcome

    def reindex(self, batch: int = 1000,
                on_batch: Callable[[int], None] = lambda _n: None) -> int:
        """Rebuilds the index from every published course; returns how many."""
        if self.index is None:
            raise Conflict("No search index is configured (set MEILI_URL).")
        self.index.configure()
        after, total = None, 0
        while rows := self.repo.published(after, batch):
            self.index.upsert(rows, wait=len(rows) < batch)
            total += len(rows)
            on_batch(len(rows))
            after = rows[-1].id
        return total


@contextmanager
def _cursor_checked() -> Iterator[None]:
    """A position the repository cannot continue from is the client's bad cursor: a 400."""
    try:
        yield
    except BadPosition:
        raise BadRequest("The cursor is not valid.") from None


def _page_key(cursor: str | None) -> str:
    """A short cache-key part for a page: cursors are long signed strings."""
    return hashlib.blake2b(cursor.encode(), digest_size=12).hexdigest() if cursor else "first"
