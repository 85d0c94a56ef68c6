"""In-memory implementations of the courses and enrollment ports, for fast tests of the
domain's rules (who sees what, versions, publishing, enrolling, progress; the live ones are
in tests/support/live.py). They keep each port's documented contract — versions and
StaleVersion, "no lesson, no publishing", AlreadyEnrolled — and nothing of a store's
performance; the adapters have their own integration tests against PostgreSQL and DynamoDB."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from edu.courses.models import (
    CatalogQuery,
    Course,
    LessonOut,
    SearchQuery,
    SectionOut,
    Status,
)
from edu.courses.ports import Hit, NotInCourse, StaleVersion
from edu.enrollment.models import CourseFacts, EnrollmentOut, LessonProgress, Payment
from edu.enrollment.ports import AlreadyEnrolled, FulfilmentResult, SavedProgress
from edu.events import Envelope


class MemoryCourses:
    """CourseRepository over dicts; `events` keeps what would go to the outbox."""

    def __init__(self) -> None:
        self.courses: dict[str, Course] = {}
        self.sections: dict[str, list[SectionOut]] = {}
        self.events: list[Envelope] = []

    def create(self, course: Course) -> None:
        self.courses[course.id] = course.model_copy(deep=True)
        self.sections[course.id] = []

    def get(self, course_id: str) -> Course | None:
        course = self.courses.get(course_id)
        return course.model_copy(deep=True) if course else None

    def update(self, course_id: str, changes: dict[str, Any], expected_version: int | None,
               events: Callable[[Course], list[Envelope]]) -> Course:
        current = self.courses[course_id]
        if expected_version is not None and expected_version != current.version:
            raise StaleVersion(current.version)
        updated = current.model_copy(update={**changes, "version": current.version + 1,
                                             "updated_at": datetime.now(UTC)})
        self.courses[course_id] = updated
        self.events += events(updated)
        return updated.model_copy(deep=True)

    def set_status(self, course_id: str, status: Status, require_lessons: bool,
                   events: Callable[[Course], list[Envelope]]) -> Course | None:
        if require_lessons and not any(s.lessons for s in self.sections[course_id]):
            return None
        current = self.courses[course_id]
        now = datetime.now(UTC)
        updated = current.model_copy(update={
            "status": status, "version": current.version + 1, "updated_at": now,
            "published_at": now if status == "published" else current.published_at})
        self.courses[course_id] = updated
        self.events += events(updated)
        return updated.model_copy(deep=True)

    def add_section(self, course_id: str, section_id: str, title: str,
                    position: int | None) -> SectionOut:
        sections = self.sections[course_id]
        section = SectionOut(id=section_id, title=title, position=0)
        sections.insert(len(sections) if position is None else position, section)
        self._number(sections)
        return section.model_copy(deep=True)

    def add_lesson(self, course_id: str, section_id: str, lesson: LessonOut, body: str,
                   position: int | None) -> LessonOut:
        section = self._section(course_id, section_id)
        stored = lesson.model_copy(update={"body": body or None})
        lessons = section.lessons
        lessons.insert(len(lessons) if position is None else position, stored)
        self._number(lessons)
        return stored.model_copy(deep=True)

    def reorder_sections(self, course_id: str, ids: list[str]) -> None:
        sections = self.sections[course_id]
        self.sections[course_id] = self._reordered(sections, ids)

    def reorder_lessons(self, course_id: str, section_id: str, ids: list[str]) -> None:
        section = self._section(course_id, section_id)
        section.lessons = self._reordered(section.lessons, ids)

    def syllabus(self, course_id: str) -> list[SectionOut]:
        return [s.model_copy(deep=True) for s in self.sections.get(course_id, [])]

    def catalog(self, query: CatalogQuery, after: list[Any] | None, limit: int,
                include_drafts: bool = False) -> list[Course]:
        rows = [c for c in self.courses.values()
                if (c.status == "published" or include_drafts)
                and (query.teacher_id is None or c.teacher_id == query.teacher_id)
                and (query.category is None or c.category == query.category)]
        rows.sort(key=lambda c: (c.created_at, c.id), reverse=True)
        return [c.model_copy(deep=True) for c in rows[:limit]]

    def search(self, query: SearchQuery, after: list[Any] | None, limit: int,
               ranked: bool) -> list[Hit]:
        words = query.q.lower().split()
        return [Hit(course=c.model_copy(deep=True), score=1.0, highlight=c.title, mode="all")
                for c in self.courses.values()
                if c.status == "published" and all(w in c.title.lower() for w in words)
                ][:limit]

    def published(self, after_id: str | None, limit: int) -> list[Course]:
        rows = sorted((c for c in self.courses.values() if c.status == "published"
                       and (after_id is None or c.id > after_id)), key=lambda c: c.id)
        return rows[:limit]

    def _section(self, course_id: str, section_id: str) -> SectionOut:
        for section in self.sections.get(course_id, []):
            if section.id == section_id:
                return section
        raise NotInCourse(section_id)

    @staticmethod
    def _number(items: Sequence[SectionOut] | Sequence[LessonOut]) -> None:
        for position, item in enumerate(items):
            item.position = position

    @classmethod
    def _reordered(cls, items: list[Any], ids: list[str]) -> list[Any]:
        by_id = {item.id: item for item in items}
        if sorted(ids) != sorted(by_id):
            raise NotInCourse("list every item exactly once")
        ordered = [by_id[i] for i in ids]
        cls._number(ordered)
        return ordered


class MemoryCache:
    """CourseCache over a dict: loads once per key until invalidated."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.generation = 0

    def get_or_load(self, key: str, load: Callable[[], str | None],
                    ttl_s: int | None = None) -> str | None:
        if key not in self.values:
            loaded = load()
            if loaded is None:
                return None
            self.values[key] = loaded
        return self.values[key]

    def invalidate(self, *keys: str) -> None:
        for key in keys:
            self.values.pop(key, None)

    def catalog_generation(self) -> int:
        return self.generation

    def bump_catalog(self) -> None:
        self.generation += 1


class BrokenIndex:
    """A SearchIndex whose server does not answer."""

    def __init__(self) -> None:
        self.calls = 0

    def search(self, query: SearchQuery, offset: int, limit: int) -> list[Hit]:
        self.calls += 1
        raise ConnectionError("the search server does not answer")

    def upsert(self, courses: Any, wait: bool = False) -> int:
        raise ConnectionError("the search server does not answer")

    def delete(self, course_ids: list[str], wait: bool = False) -> None:
        raise ConnectionError("the search server does not answer")

    def configure(self) -> None:
        raise ConnectionError("the search server does not answer")


class FactsFromCourses:
    """Enrollment's Courses port read from a MemoryCourses (what the PostgreSQL adapter
    reads from the courses tables)."""

    def __init__(self, courses: MemoryCourses) -> None:
        self.courses = courses

    def facts(self, course_id: str) -> CourseFacts | None:
        course = self.courses.get(course_id)
        if course is None:
            return None
        lessons = frozenset(lesson.id for section in self.courses.syllabus(course_id)
                            for lesson in section.lessons)
        return CourseFacts(id=course.id, title=course.title, teacher_id=course.teacher_id,
                           status=course.status, price=course.price, lesson_ids=lessons)


class MemoryEnrollments:
    """EnrollmentStore over dicts; `events` keeps what would go to the outbox."""

    def __init__(self) -> None:
        self.enrollments: dict[tuple[str, str], EnrollmentOut] = {}
        self.payments: dict[str, Payment] = {}
        self.lessons: dict[tuple[str, str], dict[str, LessonProgress]] = {}
        self.handled_events: set[str] = set()
        self.events: list[Envelope] = []

    def get_enrollment(self, user_id: str, course_id: str) -> EnrollmentOut | None:
        return self.enrollments.get((user_id, course_id))

    def create_enrollment(self, user_id: str, enrollment: EnrollmentOut,
                          events: Sequence[Envelope] = ()) -> None:
        existing = self.enrollments.get((user_id, enrollment.course_id))
        if existing is not None and existing.status == "active":
            raise AlreadyEnrolled(existing)
        self.enrollments[(user_id, enrollment.course_id)] = enrollment
        self.events += events

    def list_enrollments(self, user_id: str, after: str | None, limit: int
                         ) -> list[EnrollmentOut]:
        mine = sorted((e for (u, _), e in self.enrollments.items() if u == user_id
                       and (after is None or e.id > after)), key=lambda e: e.id)
        return mine[:limit]

    def pending_payment(self, user_id: str, course_id: str) -> Payment | None:
        return next((p for p in self.payments.values() if p.user_id == user_id
                     and p.course_id == course_id and p.status == "pending"), None)

    def save_payment(self, payment: Payment) -> None:
        self.payments[payment.id] = payment

    def cancel_payment(self, payment: Payment) -> bool:
        if self.payments[payment.id].status != "pending":
            return False
        self.payments[payment.id] = _with(payment, status="canceled")
        return True

    def payment_by_ref(self, provider_ref: str) -> Payment | None:
        return next((p for p in self.payments.values() if p.provider_ref == provider_ref),
                    None)

    def list_payments(self, user_id: str) -> list[Payment]:
        return [p for p in self.payments.values() if p.user_id == user_id]

    def fulfil(self, event_id: str, payment: Payment, enrollment: EnrollmentOut,
               events: Sequence[Envelope] = ()) -> FulfilmentResult:
        if event_id in self.handled_events:
            return FulfilmentResult(duplicate_event=True, enrollment=None)
        self.handled_events.add(event_id)
        self.payments[payment.id] = _with(payment, status="succeeded")
        try:
            self.create_enrollment(payment.user_id, enrollment, events)
        except AlreadyEnrolled:
            return FulfilmentResult(duplicate_event=False, enrollment=None)
        return FulfilmentResult(duplicate_event=False, enrollment=enrollment)

    def mark_payment(self, event_id: str, payment: Payment, status: str,
                     revoke_enrollment: bool, events: Sequence[Envelope] = ()) -> bool:
        if event_id in self.handled_events:
            return False
        self.handled_events.add(event_id)
        self.payments[payment.id] = _with(payment, status=status)
        key = (payment.user_id, payment.course_id)
        if revoke_enrollment and key in self.enrollments:
            self.enrollments[key] = self.enrollments[key].model_copy(
                update={"status": "revoked"})
        self.events += events
        return True

    def save_progress(self, user_id: str, course_id: str, progress: LessonProgress,
                      lesson_ids: frozenset[str],
                      completion_events: Sequence[Envelope] = (),
                      lesson_events: Sequence[Envelope] = (),
                      enrollment: EnrollmentOut | None = None) -> SavedProgress:
        lessons = self.lessons.setdefault((user_id, course_id), {})
        was_done = lessons.get(progress.lesson_id)
        lessons[progress.lesson_id] = progress
        lesson_done_now = progress.completed and not (was_done and was_done.completed)
        done = sum(1 for p in lessons.values() if p.completed and p.lesson_id in lesson_ids)
        completed_now = None
        if enrollment is not None:
            if lesson_done_now:
                self.events += lesson_events
            if done == len(lesson_ids) and enrollment.completed_at is None:
                completed_now = progress.updated_at
                self.events += completion_events
            self.enrollments[(user_id, course_id)] = enrollment.model_copy(update={
                "completed_lessons": done,
                "completed_at": enrollment.completed_at or completed_now})
        current = [p for p in lessons.values() if p.lesson_id in lesson_ids]
        return SavedProgress(lessons=current, completed_now_at=completed_now,
                             lesson_completed_now=lesson_done_now)

    def progress(self, user_id: str, course_id: str) -> list[LessonProgress]:
        return list(self.lessons.get((user_id, course_id), {}).values())


class FakeGateway:
    """A PaymentGateway that hands out numbered intents and refuses every webhook."""

    def __init__(self) -> None:
        self.intents: list[tuple[int, str]] = []

    def create_intent(self, amount: int, currency: str, metadata: dict[str, str],
                      idempotency_key: str) -> tuple[str, str]:
        self.intents.append((amount, currency))
        n = len(self.intents)
        return f"pi_{n}", f"pi_{n}_secret"

    def parse_webhook(self, payload: bytes, signature: str) -> dict[str, Any]:
        from edu.enrollment.ports import InvalidSignature

        raise InvalidSignature(signature)

    def cancel_intent(self, provider_ref: str) -> bool:
        return True


def _with(payment: Payment, **changes: Any) -> Payment:
    return replace(payment, **changes, updated_at=datetime.now(UTC))
