"""What the courses domain needs from storage and cache."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from edu.courses.models import (
    CatalogQuery,
    Course,
    LessonOut,
    SearchQuery,
    SectionOut,
    Status,
)
from edu.events import Envelope


class StaleVersion(Exception):
    def __init__(self, current: int) -> None:
        super().__init__(f"current version is {current}")
        self.current = current


class NotInCourse(Exception):
    """A section or lesson id that does not belong to the course."""


class BadPosition(Exception):
    """A page position the repository cannot continue from (a signed cursor of another
    layout)."""


@dataclass(frozen=True)
class Hit:
    course: Course
    score: float
    highlight: str
    mode: str = "all"  # how it matched; the cursor keeps paging in the same mode


class CourseRepository(Protocol):
    def create(self, course: Course) -> None: ...

    def get(self, course_id: str) -> Course | None: ...

    def update(self, course_id: str, changes: dict[str, Any], expected_version: int | None,
               events: Callable[[Course], list[Envelope]]) -> Course:
        """Applies changes, bumps the version, and writes the events built from the new row
        to the outbox in the same transaction; StaleVersion if expected_version is old."""

    def set_status(self, course_id: str, status: Status, require_lessons: bool,
                   events: Callable[[Course], list[Envelope]]) -> Course | None:
        """Changes the status (None when the course has no lesson and one is required)."""

    def add_section(self, course_id: str, section_id: str, title: str,
                    position: int | None) -> SectionOut: ...

    def add_lesson(self, course_id: str, section_id: str, lesson: LessonOut, body: str,
                   position: int | None) -> LessonOut:
        """Inserts at position (shifting later lessons), or appends when position is None;
        NotInCourse if the section is not the course's."""

    def reorder_sections(self, course_id: str, ids: list[str]) -> None: ...

    def reorder_lessons(self, course_id: str, section_id: str, ids: list[str]) -> None: ...

    def syllabus(self, course_id: str) -> list[SectionOut]: ...

    def catalog(self, query: CatalogQuery, after: list[Any] | None, limit: int,
                include_drafts: bool = False) -> list[Course]: ...

    def search(self, query: SearchQuery, after: list[Any] | None, limit: int,
               ranked: bool) -> list[Hit]: ...

    def published(self, after_id: str | None, limit: int) -> list[Course]:
        """Published courses in id order (for rebuilding a search index)."""


class SearchIndex(Protocol):
    """A search engine fed from course events (Meilisearch); PostgreSQL is the fallback."""

    def search(self, query: SearchQuery, offset: int, limit: int) -> list[Hit]: ...

    def upsert(self, courses: Iterable[Course], wait: bool = False) -> int: ...

    def delete(self, course_ids: list[str], wait: bool = False) -> None: ...

    def configure(self) -> None: ...


class CourseCache(Protocol):
    def get_or_load(self, key: str, load: Callable[[], str | None],
                    ttl_s: int | None = None) -> str | None:
        """The cached text for key, loading (once across callers) on a miss; kept for ttl_s
        (the cache's default when None)."""

    def invalidate(self, *keys: str) -> None: ...

    def catalog_generation(self) -> int:
        """A number that changes whenever the public catalog changes."""

    def bump_catalog(self) -> None: ...
