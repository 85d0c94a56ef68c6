"""Course rules: who may create, see and change what; publishing; catalog and search.

Reads of public data go through a cache (course by id, first catalog pages) invalidated on
every write that changes what the public sees.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from edu.auth.claims import Caller, require_verified_teacher
from edu.breaker import CircuitBreaker
from edu.courses.models import (
    CatalogQuery,
    CourseIn,
    CourseOut,
    CoursePatch,
    LessonIn,
    LessonOut,
    SearchHit,
    SearchQuery,
    SectionIn,
    SectionOut,
    SyllabusOut,
)
from edu.courses.ports import (
    CourseCache,
    CourseRepository,
    Hit,
    NotInCourse,
    SearchIndex,
    StaleVersion,
)
from edu.errors import Conflict, FieldError, Forbidden, NotFound, PreconditionFailed
from edu.events import CoursePublished, CourseUpdated, Envelope, Price, make_event
from edu.ids import is_uuid, uuid7
from edu.pagination import CursorCodec, Page

SOURCE = "edu.courses"
NOT_FOUND = "No course with this id."


def etag(course: CourseOut) -> str:
    return f'"v{course.version}"'


def _published_event(course: CourseOut) -> Envelope:
    return make_event("course.published", CoursePublished(
        course_id=course.id, teacher_id=course.teacher_id, title=course.title,
        subtitle=course.subtitle, category=course.category, level=course.level,
        language=course.language, price=Price(**course.price.model_dump()), tags=course.tags,
        version=course.version,
        published_at=(course.published_at or course.updated_at).isoformat()), source=SOURCE)


def _updated_event(course: CourseOut, changed: list[str]) -> Envelope:
    return make_event("course.updated", CourseUpdated(
        course_id=course.id, teacher_id=course.teacher_id, status=course.status,
        version=course.version, changed=changed), source=SOURCE)


# The search index follows publishing through events, so a search answered between a change
# and its indexing could be cached stale; a short life bounds that (catalog pages are read
# from PostgreSQL itself and keep the configured TTL).
SEARCH_CACHE_TTL_S = 30


class CourseService:
    def __init__(self, repo: CourseRepository, cache: CourseCache, cursors: CursorCodec,
                 ranked_search: bool = True, index: SearchIndex | None = None,
                 breaker: CircuitBreaker | None = None,
                 on_search_fallback: Callable[[str], None] | None = None,
                 enrolled: Callable[[str, str], bool] | None = None) -> None:
        """`enrolled(user_id, course_id)`: whether the student has an active enrollment (the
        syllabus gives enrolled students the lessons' text)."""
        self.repo = repo
        self.cache = cache
        self.cursors = cursors
        self.ranked_search = ranked_search
        self.index = index
        self.breaker = breaker or CircuitBreaker()
        self.on_search_fallback = on_search_fallback or (lambda _why: None)
        self.enrolled = enrolled or (lambda _user, _course: False)

    # --- authoring ----------------------------------------------------------------------

    def create(self, who: Caller, data: CourseIn) -> CourseOut:
        require_verified_teacher(who, "create courses")
        now = datetime.now(UTC)
        course = CourseOut(id=uuid7(), teacher_id=who.user_id, status="draft", version=1,
                           created_at=now, updated_at=now, published_at=None,
                           **data.model_dump())
        self.repo.create(course)
        return course

    def get(self, course_id: str, who: Caller | None) -> CourseOut:
        course = self._public_or_own(course_id, who)
        return course

    def update(self, who: Caller, course_id: str, patch: CoursePatch,
               if_match: str | None) -> CourseOut:
        course = self._owned(course_id, who)
        expected = self._version_from(if_match)
        changes = patch.model_dump(exclude_unset=True)
        if "price" in changes and patch.price is not None:
            changes["price"] = patch.price
        changes = {k: v for k, v in changes.items() if v is not None}
        if not changes:
            return course
        try:
            updated = self.repo.update(
                course_id, changes, expected,
                events=lambda c: [_updated_event(c, sorted(changes))]
                if c.status == "published" else [])
        except StaleVersion as exc:
            raise PreconditionFailed(
                f"The course changed since you read it (now version {exc.current}); reload "
                "it and apply your change again.") from None
        self._invalidate(updated)
        return updated

    def archive(self, who: Caller, course_id: str) -> CourseOut:
        course = self._owned(course_id, who)
        if course.status == "archived":
            return course
        updated = self.repo.set_status(course_id, "archived", False,
                                       events=lambda c: [_updated_event(c, ["status"])])
        assert updated is not None
        self._invalidate(updated)
        return updated

    def publish(self, who: Caller, course_id: str) -> CourseOut:
        course = self._owned(course_id, who)
        if course.status == "published":
            return course
        if course.status == "archived":
            raise Conflict("An archived course cannot be published.")
        updated = self.repo.set_status(course_id, "published", True,
                                       events=lambda c: [_published_event(c)])
        if updated is None:
            raise Conflict("Add at least one lesson before publishing.")
        self._invalidate(updated)
        return updated

    def unpublish(self, who: Caller, course_id: str) -> CourseOut:
        course = self._owned(course_id, who)
        if course.status != "published":
            raise Conflict(f"The course is {course.status}, not published.")
        updated = self.repo.set_status(course_id, "draft", False,
                                       events=lambda c: [_updated_event(c, ["status"])])
        assert updated is not None
        self._invalidate(updated)
        return updated

    # --- syllabus -------------------------------------------------------------------------

    def add_section(self, who: Caller, course_id: str, data: SectionIn) -> SectionOut:
        course = self._owned(course_id, who)
        self._editable(course)
        section = self.repo.add_section(course_id, uuid7(), data.title, data.position)
        self._invalidate(course)
        return section

    def add_lesson(self, who: Caller, course_id: str, section_id: str,
                   data: LessonIn) -> LessonOut:
        course = self._owned(course_id, who)
        self._editable(course)
        if data.kind == "video" and data.body:
            raise_field("body", "video lessons have no text body; upload the video instead")
        lesson = LessonOut(id=uuid7(), section_id=section_id, title=data.title, kind=data.kind,
                           free_preview=data.free_preview, position=data.position or 0,
                           body=data.body if data.kind == "text" else None)
        try:
            saved = self.repo.add_lesson(course_id, section_id, lesson, data.body,
                                         data.position)
        except NotInCourse:
            raise NotFound("No section with this id in the course.") from None
        self._invalidate(course)
        return saved

    def reorder_sections(self, who: Caller, course_id: str, ids: list[str]) -> SyllabusOut:
        self._editable(self._owned(course_id, who))
        try:
            self.repo.reorder_sections(course_id, ids)
        except NotInCourse as exc:
            raise_field("ids", str(exc) or "list every section of the course exactly once")
        self.cache.invalidate(*_syllabus_keys(course_id))
        return self._full_syllabus(course_id)

    def reorder_lessons(self, who: Caller, course_id: str, section_id: str,
                        ids: list[str]) -> SyllabusOut:
        self._editable(self._owned(course_id, who))
        try:
            self.repo.reorder_lessons(course_id, section_id, ids)
        except NotInCourse as exc:
            raise_field("ids", str(exc) or "list every lesson of the section exactly once")
        self.cache.invalidate(*_syllabus_keys(course_id))
        return self._full_syllabus(course_id)

    def syllabus_json(self, course_id: str, who: Caller | None) -> str:
        """The syllabus as JSON text: with every lesson's text body for the owner and the
        students enrolled, with free previews' bodies only for anyone else. Both views come
        from the cache, as stored; every change to the sections or lessons retires them."""
        course = self._public_or_own(course_id, who)
        full = who is not None and (who.user_id == course.teacher_id
                                    or self.enrolled(who.user_id, course_id))

        def load() -> str:
            return (self._full_syllabus(course_id).model_dump_json() if full
                    else self._public_syllabus(course_id))

        key = _full_syllabus_key(course_id) if full else _syllabus_key(course_id)
        cached = self.cache.get_or_load(key, load)
        return cached if cached is not None else load()

    def _full_syllabus(self, course_id: str) -> SyllabusOut:
        """The owner's and enrolled students' view: every lesson's text body."""
        return SyllabusOut(course_id=course_id, sections=self.repo.syllabus(course_id))

    def _public_syllabus(self, course_id: str) -> str:
        sections = self.repo.syllabus(course_id)
        for section in sections:  # text bodies are for the owner and free previews
            for lesson in section.lessons:
                if not lesson.free_preview:
                    lesson.body = None
        return SyllabusOut(course_id=course_id, sections=sections).model_dump_json()

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
        rows = self.repo.catalog(query, after, query.limit + 1, include_drafts=own)
        items, more = rows[:query.limit], len(rows) > query.limit
        cursor = self.cursors.encode(self._sort_key(items[-1], query.sort, own), fingerprint) \
            if more and items else None
        return Page[CourseOut](items=items, next_cursor=cursor)

    @staticmethod
    def _sort_key(course: CourseOut, sort: str, own: bool) -> list[Any]:
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
        hits = self.repo.search(query, after, query.limit + 1, ranked=self.ranked_search)
        return self._search_page(hits, query, lambda last: [last.mode, last.score,
                                                            last.course.id], fingerprint)

    def _search_page(self, hits: list[Hit], query: SearchQuery,
                     position: Callable[[Hit], list[Any]], fingerprint: str
                     ) -> Page[SearchHit]:
        items, more = hits[:query.limit], len(hits) > query.limit
        cursor = self.cursors.encode(position(items[-1]), fingerprint) \
            if more and items else None
        return Page[SearchHit](items=[SearchHit(course=h.course, score=round(h.score, 6),
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

    # --- helpers -------------------------------------------------------------------------

    def _load(self, course_id: str) -> CourseOut | None:
        if not is_uuid(course_id):
            return None
        cached = self.cache.get_or_load(
            f"course:{course_id}",
            lambda: (c.model_dump_json() if (c := self.repo.get(course_id)) else None))
        return CourseOut.model_validate_json(cached) if cached else None

    def _public_or_own(self, course_id: str, who: Caller | None) -> CourseOut:
        course = self._load(course_id)
        if course is None:
            raise NotFound(NOT_FOUND)
        if course.status != "published" and (who is None or who.user_id != course.teacher_id):
            raise NotFound(NOT_FOUND)  # drafts do not leak their existence
        return course

    def _owned(self, course_id: str, who: Caller) -> CourseOut:
        course = self.repo.get(course_id) if is_uuid(course_id) else None  # writes: no cache
        if course is None:
            raise NotFound(NOT_FOUND)
        if course.teacher_id != who.user_id:
            if course.status == "published":
                raise Forbidden("Only the course's teacher can change it.")
            raise NotFound(NOT_FOUND)
        return course

    @staticmethod
    def _editable(course: CourseOut) -> None:
        if course.status == "archived":
            raise Conflict("The course is archived; it cannot change.")

    @staticmethod
    def _version_from(if_match: str | None) -> int | None:
        if not if_match or if_match.strip() == "*":
            return None
        tag = if_match.strip().removeprefix("W/").strip('"')
        if not tag.startswith("v") or not tag[1:].isdigit():
            raise PreconditionFailed("If-Match must be an ETag from GET /courses/{id}.")
        return int(tag[1:])

    def _invalidate(self, course: CourseOut) -> None:
        self.cache.invalidate(f"course:{course.id}", *_syllabus_keys(course.id))
        self.cache.bump_catalog()


def _syllabus_key(course_id: str) -> str:
    """The cache key of a course's public syllabus (read, and retired by every change)."""
    return f"syllabus:{course_id}"


def _full_syllabus_key(course_id: str) -> str:
    """The cache key of the syllabus with every text body (owner, enrolled students)."""
    return f"syllabus-full:{course_id}"


def _syllabus_keys(course_id: str) -> tuple[str, str]:
    return _syllabus_key(course_id), _full_syllabus_key(course_id)


def _page_key(cursor: str | None) -> str:
    """A short cache-key part for a page: cursors are long signed strings."""
    import hashlib

    return hashlib.blake2b(cursor.encode(), digest_size=12).hexdigest() if cursor else "first"


def raise_field(field: str, message: str) -> None:
    from edu.errors import ValidationFailed

    raise ValidationFailed("The request is not valid.", [FieldError(field, message)])


