"""Authoring courses in-process through CourseService (integration tests), as a verified
teacher: one section, one lesson, published unless told otherwise."""

from __future__ import annotations

import uuid

from edu.auth.claims import Caller
from edu.courses.models import CourseIn, LessonIn, LessonKind, Money, SectionIn
from edu.courses.service import CourseService

TEACHER = Caller(user_id=f"t-{uuid.uuid4().hex[:6]}", email="t@example.com", role="teacher",
                 is_verified=True, session_id=None)


def new_teacher() -> Caller:
    """A verified teacher of their own (for tests that count per teacher)."""
    return Caller(user_id=f"t-{uuid.uuid4().hex[:10]}", email="t@example.com", role="teacher",
                  is_verified=True, session_id=None)


def authored_course(svc: CourseService, title: str, category: str, *, description: str = "",
                    price: int = 0, kind: LessonKind = "text", publish: bool = True,
                    teacher: Caller = TEACHER, lessons: int = 1) -> tuple[str, str]:
    """(course id, first lesson id) of a new course by `teacher`, with `lessons` lessons in
    one section (`svc.syllabus` lists them in order)."""
    course = svc.create(teacher, CourseIn(
        title=title, description=description, category=category, level="beginner",
        language="en", price=Money(amount=price, currency="usd")))
    section = svc.add_section(teacher, course.id, SectionIn(title="S"))
    added = [svc.add_lesson(teacher, course.id, section.id, LessonIn(title=f"L{n}", kind=kind))
             for n in range(1, lessons + 1)]
    first = added[0]
    if publish:
        svc.publish(teacher, course.id)
    return course.id, first.id
