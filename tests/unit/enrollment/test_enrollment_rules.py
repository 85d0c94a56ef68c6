"""Enrollment rules on in-memory ports (tests/support/fakes.py): enrolling once, teachers and
their own courses, paying once per price, progress only for the enrolled. The DynamoDB store
and Stripe are tested in tests/integration/enrollment and tests/e2e."""

from __future__ import annotations

import pytest

from edu.courses.models import CourseIn, CoursePatch, LessonIn, SectionIn
from edu.courses.service import CourseService
from edu.enrollment.models import EnrollmentOut, PaymentStarted, ProgressIn
from edu.enrollment.ports import SavedProgress
from edu.enrollment.service import EnrollmentService
from edu.errors import Conflict, Forbidden, NotFound
from edu.pagination import CursorCodec
from tests.support.callers import STUDENT, TEACHER
from tests.support.fakes import (
    FactsFromCourses,
    FakeGateway,
    MemoryCache,
    MemoryCourses,
    MemoryEnrollments,
)


class World:
    def __init__(self) -> None:
        self.courses = CourseService(MemoryCourses(), MemoryCache(), CursorCodec("c"))
        self.store, self.gateway = MemoryEnrollments(), FakeGateway()
        self.enrollment = EnrollmentService(
            self.store, FactsFromCourses(self.courses.repo), self.gateway,  # type: ignore[arg-type]
            CursorCodec("e"))

    def course(self, amount: int = 0, lessons: int = 2, publish: bool = True
               ) -> tuple[str, list[str]]:
        course = self.courses.create(TEACHER, CourseIn(
            title="Watercolor basics", category="art", level="beginner", language="en",
            price={"amount": amount, "currency": "usd"}))
        section = self.courses.add_section(TEACHER, course.id, SectionIn(title="One"))
        ids = [self.courses.add_lesson(TEACHER, course.id, section.id,
                                       LessonIn(title=f"L{n}", kind="text", body="b")).id
               for n in range(lessons)]
        if publish:
            self.courses.publish(TEACHER, course.id)
        return course.id, ids


def test_a_free_course_enrolls_once_and_the_second_try_names_the_enrollment() -> None:
    world = World()
    course_id, _ = world.course()
    first = world.enrollment.enroll(STUDENT, course_id)
    assert isinstance(first, EnrollmentOut) and first.status == "active"
    with pytest.raises(Conflict) as again:
        world.enrollment.enroll(STUDENT, course_id)
    assert again.value.extensions["enrollment"]["id"] == first.id
    assert [e.type for e in world.store.events] == ["enrollment.created"]


def test_teachers_do_not_enroll_in_their_own_course_and_drafts_take_no_one() -> None:
    world = World()
    course_id, _ = world.course()
    with pytest.raises(Forbidden):
        world.enrollment.enroll(TEACHER, course_id)
    draft_id, _ = world.course(publish=False)
    with pytest.raises(NotFound):
        world.enrollment.enroll(STUDENT, draft_id)


def test_a_paid_course_starts_one_payment_per_price() -> None:
    world = World()
    course_id, _ = world.course(amount=1999)
    started = world.enrollment.enroll(STUDENT, course_id)
    assert isinstance(started, PaymentStarted) and started.price.amount == 1999
    again = world.enrollment.enroll(STUDENT, course_id)
    assert isinstance(again, PaymentStarted) and again.payment_id == started.payment_id
    assert len(world.gateway.intents) == 1  # asking again does not charge twice
    world.courses.update(TEACHER, course_id, CoursePatch(price={"amount": 2499,
                                                                "currency": "usd"}), None)
    repriced = world.enrollment.enroll(STUDENT, course_id)
    assert isinstance(repriced, PaymentStarted) and repriced.payment_id != started.payment_id
    assert world.store.payments[started.payment_id].status == "canceled"
    assert world.store.enrollments == {}  # only the webhook enrolls


def test_progress_needs_an_enrollment_and_completes_the_course_once() -> None:
    world = World()
    course_id, lessons = world.course(lessons=2)
    with pytest.raises(Forbidden, match="Enroll"):
        world.enrollment.put_progress(STUDENT, course_id, lessons[0], ProgressIn(completed=True))
    draft_id, draft_lessons = world.course(publish=False)
    with pytest.raises(NotFound):  # a draft does not admit it exists
        world.enrollment.get_progress(STUDENT, draft_id)
    world.enrollment.enroll(STUDENT, course_id)
    with pytest.raises(NotFound):
        world.enrollment.put_progress(STUDENT, course_id, draft_lessons[0],
                                      ProgressIn(completed=True))
    half = world.enrollment.put_progress(STUDENT, course_id, lessons[0],
                                         ProgressIn(completed=True))
    assert (half.completed_lessons, half.progress_percent, half.completed_at) == (1, 50.0, None)
    done = world.enrollment.put_progress(STUDENT, course_id, lessons[1],
                                         ProgressIn(completed=True, position_seconds=30))
    assert done.progress_percent == 100.0 and done.completed_at is not None
    world.enrollment.put_progress(STUDENT, course_id, lessons[1], ProgressIn(completed=True))
    kinds = [e.type for e in world.store.events]
    assert kinds.count("course.completed") == 1 and kinds.count("lesson.completed") == 2
    # The teacher previews their own course: progress is kept, nothing is emitted.
    world.enrollment.put_progress(TEACHER, course_id, lessons[0], ProgressIn(completed=True))
    assert len(world.store.events) == len(kinds)


def test_progress_saves_that_keep_colliding_are_a_409() -> None:
    from edu.enrollment.ports import ProgressContended

    class Contended(MemoryEnrollments):
        def save_progress(self, *args: object, **kwargs: object) -> SavedProgress:
            raise ProgressContended("c")

    world = World()
    world.store = Contended()
    world.enrollment.store = world.store
    course_id, lessons = world.course()
    world.enrollment.enroll(STUDENT, course_id)
    with pytest.raises(Conflict, match="saved from elsewhere"):
        world.enrollment.put_progress(STUDENT, course_id, lessons[0], ProgressIn(completed=True))
