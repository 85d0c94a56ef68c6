"""Course rules: who may create, see and change what; publishing; the syllabus. The public
catalog and search are in edu.courses.catalog.

Reads of public data go through a cache (course by id, syllabus, catalog pages) invalidated
on every write that changes what the public sees.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from edu.auth.claims import Caller, require_verified_teacher
from edu.breaker import CircuitBreaker
from edu.courses.catalog import CatalogAndSearch
from edu.courses.models import (
    Course,
    CourseIn,
    CourseOut,
    CoursePatch,
    LessonIn,
    LessonOut,
    SectionIn,
    SectionOut,
    SyllabusOut,
)
from edu.courses.ports import (
    CourseCache,
    CourseRepository,
    NotInCourse,
    SearchIndex,
    StaleVersion,
)
from edu.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
)
from edu.events import CoursePublished, CourseUpdated, Envelope, Price, make_event
from edu.ids import is_uuid, uuid7
from edu.pagination import CursorCodec

SOURCE = "edu.courses"
NOT_FOUND = "No course with this id."


def _published_event(course: Course) -> Envelope:
    return make_event("course.published", CoursePublished(
        course_id=course.id, teacher_id=course.teacher_id, title=course.title,
        subtitle=course.subtitle, category=course.category, level=course.level,
        language=course.language, price=Price(**course.price.model_dump()), tags=course.tags,
        version=course.version,
        published_at=(course.published_at or course.updated_at).isoformat()), source=SOURCE)


def _updated_event(course: Course, changed: list[str]) -> Envelope:
    return make_event("course.updated", CourseUpdated(
        course_id=course.id, teacher_id=course.teacher_id, status=course.status,
        version=course.version, changed=changed), source=SOURCE)




class CourseService(CatalogAndSearch):
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
        course = Course(id=uuid7(), teacher_id=who.user_id, status="draft", version=1,
                           created_at=now, updated_at=now, published_at=None,
                           **data.model_dump())
        self.repo.create(course)
        return CourseOut.of(course)

    def get(self, course_id: str, who: Caller | None) -> CourseOut:
        return CourseOut.of(self._public_or_own(course_id, who))

    def update(self, who: Caller, course_id: str, patch: CoursePatch,
               expected: int | None) -> CourseOut:
        """Applies `patch` if the course is still at version `expected` (None: whatever its
        version); PreconditionFailed if it changed since."""
        course = self._owned(course_id, who)
        changes = patch.model_dump(exclude_unset=True)
        if "price" in changes and patch.price is not None:
            changes["price"] = patch.price
        changes = {k: v for k, v in changes.items() if v is not None}
        if not changes:
            return CourseOut.of(course)
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
        return CourseOut.of(updated)

    def archive(self, who: Caller, course_id: str) -> CourseOut:
        course = self._owned(course_id, who)
        if course.status == "archived":
            return CourseOut.of(course)
        updated = self.repo.set_status(course_id, "archived", False,
                                       events=lambda c: [_updated_event(c, ["status"])])
        assert updated is not None
        self._invalidate(updated)
        return CourseOut.of(updated)

    def publish(self, who: Caller, course_id: str) -> CourseOut:
        course = self._owned(course_id, who)
        if course.status == "published":
            return CourseOut.of(course)
        if course.status == "archived":
            raise Conflict("An archived course cannot be published.")
        updated = self.repo.set_status(course_id, "published", True,
                                       events=lambda c: [_published_event(c)])
        if updated is None:
            raise Conflict("Add at least one lesson before publishing.")
        self._invalidate(updated)
        return CourseOut.of(updated)

    def unpublish(self, who: Caller, course_id: str) -> CourseOut:
        course = self._owned(course_id, who)
        if course.status != "published":
            raise Conflict(f"The course is {course.status}, not published.")
        updated = self.repo.set_status(course_id, "draft", False,
                                       events=lambda c: [_updated_event(c, ["status"])])
        assert updated is not None
        self._invalidate(updated)
        return CourseOut.of(updated)

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

    # --- helpers -------------------------------------------------------------------------

    def _load(self, course_id: str) -> Course | None:
        if not is_uuid(course_id):
            return None
        cached = self.cache.get_or_load(
            f"course:{course_id}",
            lambda: (c.model_dump_json() if (c := self.repo.get(course_id)) else None))
        return Course.model_validate_json(cached) if cached else None

    def _public_or_own(self, course_id: str, who: Caller | None) -> Course:
        course = self._load(course_id)
        if course is None:
            raise NotFound(NOT_FOUND)
        if course.status != "published" and (who is None or who.user_id != course.teacher_id):
            raise NotFound(NOT_FOUND)  # drafts do not leak their existence
        return course

    def _owned(self, course_id: str, who: Caller) -> Course:
        course = self.repo.get(course_id) if is_uuid(course_id) else None  # writes: no cache
        if course is None:
            raise NotFound(NOT_FOUND)
        if course.teacher_id != who.user_id:
            if course.status == "published":
                raise Forbidden("Only the course's teacher can change it.")
            raise NotFound(NOT_FOUND)
        return course

    @staticmethod
    def _editable(course: Course) -> None:
        if course.status == "archived":
            raise Conflict("The course is archived; it cannot change.")

    def _invalidate(self, course: Course) -> None:
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


def raise_field(field: str, message: str) -> None:
    raise ValidationFailed("The request is not valid.", [FieldError(field, message)])


