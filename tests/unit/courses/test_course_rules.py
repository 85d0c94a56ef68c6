"""Course rules on in-memory ports (tests/support/fakes.py): visibility, versions,
publishing, archiving, and search when the index fails. The PostgreSQL adapter's own
behaviour is tested in tests/integration/courses."""

from __future__ import annotations

import pytest

from edu.auth.claims import Caller
from edu.breaker import CircuitBreaker
from edu.courses.models import CatalogQuery, CourseIn, CoursePatch, LessonIn, SearchQuery, SectionIn
from edu.courses.service import CourseService
from edu.errors import Conflict, Forbidden, NotFound, PreconditionFailed
from edu.pagination import CursorCodec
from tests.support.callers import OTHER_TEACHER, STUDENT, TEACHER
from tests.support.fakes import BrokenIndex, MemoryCache, MemoryCourses

COURSE = CourseIn(title="Python from zero", category="programming", level="beginner",
                  language="en", price={"amount": 0, "currency": "usd"})


def service(index: BrokenIndex | None = None, fallbacks: list[str] | None = None
            ) -> CourseService:
    sink = fallbacks if fallbacks is not None else []
    return CourseService(MemoryCourses(), MemoryCache(), CursorCodec("test"), index=index,
                         breaker=CircuitBreaker(failure_threshold=2),
                         on_search_fallback=sink.append)


def published(svc: CourseService) -> str:
    course = svc.create(TEACHER, COURSE)
    section = svc.add_section(TEACHER, course.id, SectionIn(title="Basics"))
    svc.add_lesson(TEACHER, course.id, section.id, LessonIn(title="Hello", kind="text",
                                                            body="print('hi')"))
    svc.publish(TEACHER, course.id)
    return course.id


def test_a_draft_is_seen_by_its_teacher_only_and_does_not_leak_its_existence() -> None:
    svc = service()
    draft = svc.create(TEACHER, COURSE)
    assert svc.get(draft.id, TEACHER).status == "draft"
    for who in (None, STUDENT, OTHER_TEACHER):
        with pytest.raises(NotFound):
            svc.get(draft.id, who)
        with pytest.raises(NotFound):
            svc.syllabus_json(draft.id, who)
    with pytest.raises(NotFound):  # a draft is not even there to be forbidden
        svc.update(OTHER_TEACHER, draft.id, CoursePatch(title="Mine now"), None)
    mine = CatalogQuery(teacher_id=TEACHER.user_id)
    assert [c.id for c in svc.catalog(mine, TEACHER).items] == [draft.id]  # own listing
    assert svc.catalog(mine, STUDENT).items == []


def test_only_verified_teachers_create_and_only_the_owner_changes() -> None:
    svc = service()
    with pytest.raises(Forbidden):
        svc.create(STUDENT, COURSE)
    unverified = Caller(user_id="t-3", email="u@example.com", role="teacher",
                        is_verified=False, session_id=None)
    with pytest.raises(Forbidden):
        svc.create(unverified, COURSE)
    course_id = published(svc)
    with pytest.raises(Forbidden):  # a published course is public: changing it is forbidden
        svc.update(OTHER_TEACHER, course_id, CoursePatch(title="Mine now"), None)


def test_a_stale_version_is_a_412_and_a_current_one_applies() -> None:
    svc = service()
    course = svc.create(TEACHER, COURSE)
    renamed = svc.update(TEACHER, course.id, CoursePatch(title="Python, gently"),
                         course.version)
    assert renamed.version == course.version + 1
    with pytest.raises(PreconditionFailed, match="changed since you read it"):
        svc.update(TEACHER, course.id, CoursePatch(subtitle="lost update"), course.version)
    assert svc.update(TEACHER, course.id, CoursePatch(subtitle="forced"), None).subtitle == \
        "forced"
    assert svc.get(course.id, TEACHER).title == "Python, gently"


def test_publishing_needs_a_lesson() -> None:
    svc = service()
    course = svc.create(TEACHER, COURSE)
    with pytest.raises(Conflict, match="at least one lesson"):
        svc.publish(TEACHER, course.id)
    svc.add_section(TEACHER, course.id, SectionIn(title="Empty"))
    with pytest.raises(Conflict, match="at least one lesson"):
        svc.publish(TEACHER, course.id)
    assert svc.get(course.id, TEACHER).status == "draft"


def test_an_archived_course_is_read_only_and_cannot_come_back() -> None:
    svc = service()
    course_id = published(svc)
    svc.archive(TEACHER, course_id)
    with pytest.raises(Conflict, match="archived"):
        svc.add_section(TEACHER, course_id, SectionIn(title="More"))
    with pytest.raises(Conflict, match="archived"):
        svc.publish(TEACHER, course_id)
    with pytest.raises(Conflict):
        svc.unpublish(TEACHER, course_id)
    with pytest.raises(NotFound):  # and the public no longer sees it
        svc.get(course_id, STUDENT)


def test_search_falls_back_to_the_database_when_the_index_fails_then_stops_asking_it(
        ) -> None:
    index, fallbacks = BrokenIndex(), []
    svc = service(index, fallbacks)
    course_id = published(svc)
    for words in ("python", "zero", "python zero"):  # distinct queries: no cached page
        page = svc.search(SearchQuery(q=words))
        assert [hit.course.id for hit in page.items] == [course_id]
    assert index.calls == 2  # the breaker opened after two failures
    assert fallbacks[:2] == ["index failed: the search server does not answer"] * 2
    assert fallbacks[2] == "index circuit open"
