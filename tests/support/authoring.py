"""Authoring courses in-process through CourseService (integration tests), as a verified
teacher: one section, one lesson, published unless told otherwise."""

from __future__ import annotations

import uuid

from edu.auth.claims import Caller
from edu.courses.models import CourseIn, LessonIn, LessonKind, Money, SectionIn
from edu.courses.service import CourseService

TEACHER = Caller(user_id=f"t-{uuid.uuid4().hex[:6]}", email="t@example.com", role="teacher",
                 is_verified=True, session_id=None)


def authored_course(svc: CourseService, title: str, category: str, *, description: str = "",
                    price: int = 0, kind: LessonKind = "text", publish: bool = True
                    ) -> tuple[str, str]:
    """(course id, lesson id) of a new course by TEACHER."""
    course = svc.create(TEACHER, CourseIn(
        title=title, description=description, category=category, level="beginner",
        language="en", price=Money(amount=price, currency="usd")))
    section = svc.add_section(TEACHER, course.id, SectionIn(title="S"))
    lesson = svc.add_lesson(TEACHER, course.id, section.id, LessonIn(title="L", kind=kind))
    if publish:
        svc.publish(TEACHER, course.id)
    return course.id, lesson.id
