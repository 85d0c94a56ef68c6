"""Live session rules on in-memory ports (tests/support/fakes.py): who schedules, lists and
cancels, and when."""

from __future__ import annotations

from datetime import timedelta

import pytest

from edu.errors import Conflict, Forbidden, NotFound, ValidationFailed
from edu.live.models import LiveSessionIn
from tests.support.callers import OTHER_TEACHER, STUDENT, TEACHER
from tests.support.live import NOW, World


def at(hours: float) -> LiveSessionIn:
    return LiveSessionIn(title="Office hours", starts_at=NOW + timedelta(hours=hours))


def test_the_courses_teacher_schedules_and_the_event_says_so() -> None:
    world = World()
    course_id = world.course()
    session = world.live.schedule(TEACHER, course_id, at(24))
    assert (session.status, session.course_id, session.teacher_id) == (
        "scheduled", course_id, TEACHER.user_id)
    (event,) = world.store.events
    assert event.type == "live.scheduled" and event.data["session_id"] == session.id
    assert event.data["course_title"] == "Live Python"
    assert event.data["starts_at"].startswith("2027-01-11T12:00:00")


def test_only_the_verified_owner_schedules_and_drafts_do_not_leak() -> None:
    world = World()
    published, draft = world.course(), world.course(publish=False)
    with pytest.raises(Forbidden):
        world.live.schedule(STUDENT, published, at(1))
    with pytest.raises(Forbidden):
        world.live.schedule(OTHER_TEACHER, published, at(1))
    with pytest.raises(NotFound):
        world.live.schedule(OTHER_TEACHER, draft, at(1))
    with pytest.raises(NotFound):
        world.live.schedule(TEACHER, "not-a-uuid", at(1))
    world.live.schedule(TEACHER, draft, at(1))  # a draft's own teacher may prepare one
    with pytest.raises(NotFound):
        world.live.list(draft, STUDENT)


def test_a_session_starts_in_the_next_year_and_never_in_an_archived_course() -> None:
    world = World()
    course_id = world.course()
    for hours in (-1, 24 * 367):
        with pytest.raises(ValidationFailed) as refused:
            world.live.schedule(TEACHER, course_id, at(hours))
        assert refused.value.errors[0].field == "starts_at"
    world.courses.archive(TEACHER, course_id)
    with pytest.raises(Conflict, match="archived"):
        world.live.schedule(TEACHER, course_id, at(1))


def test_everyone_sees_upcoming_sessions_the_teacher_sees_all_and_cancels_once() -> None:
    world = World()
    course_id = world.course()
    later, sooner = world.live.schedule(TEACHER, course_id, at(48)), \
        world.live.schedule(TEACHER, course_id, at(2))
    assert [s.id for s in world.live.list(course_id, None).items] == [sooner.id, later.id]
    cancelled = world.live.cancel(TEACHER, course_id, later.id)
    assert cancelled.status == "cancelled"
    with pytest.raises(Conflict, match="cancelled"):
        world.live.cancel(TEACHER, course_id, later.id)
    assert [s.id for s in world.live.list(course_id, STUDENT).items] == [sooner.id]
    assert [s.id for s in world.live.list(course_id, TEACHER).items] == [sooner.id, later.id]
    with pytest.raises(Forbidden):
        world.live.cancel(OTHER_TEACHER, course_id, sooner.id)
    other_course = world.course()
    with pytest.raises(NotFound):
        world.live.cancel(TEACHER, other_course, sooner.id)


def test_a_student_sees_the_upcoming_sessions_of_its_courses_only() -> None:
    world = World()
    mine, other = world.course(), world.course()
    first = world.live.schedule(TEACHER, mine, at(5))
    world.live.schedule(TEACHER, other, at(1))
    gone = world.live.schedule(TEACHER, mine, at(2))
    world.live.cancel(TEACHER, mine, gone.id)
    assert [s.id for s in world.live.mine(STUDENT, [mine]).items] == [first.id]
    assert world.live.mine(STUDENT, []).items == []
