"""A course service and a live session service over in-memory ports, for live rule tests."""

from __future__ import annotations

from datetime import UTC, datetime

from edu.courses.models import CourseIn, LessonIn, SectionIn
from edu.courses.service import CourseService
from edu.live.service import LiveService
from edu.pagination import CursorCodec
from tests.support.callers import TEACHER
from tests.support.fakes import MemoryCache, MemoryCourses, MemoryLiveSessions

NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)


class World:
    """Courses and live sessions on in-memory ports, a clock fixed at NOW."""

    def __init__(self) -> None:
        self.courses = CourseService(MemoryCourses(), MemoryCache(), CursorCodec("c"))
        self.store = MemoryLiveSessions(self.courses.repo)  # type: ignore[arg-type]
        self.live = LiveService(self.store, clock=lambda: NOW)

    def course(self, publish: bool = True) -> str:
        course = self.courses.create(TEACHER, CourseIn(
            title="Live Python", category="programming", level="beginner", language="en",
            price={"amount": 0, "currency": "usd"}))
        section = self.courses.add_section(TEACHER, course.id, SectionIn(title="One"))
        self.courses.add_lesson(TEACHER, course.id, section.id,
                                LessonIn(title="L", kind="text", body="b"))
        if publish:
            self.courses.publish(TEACHER, course.id)
        return course.id
