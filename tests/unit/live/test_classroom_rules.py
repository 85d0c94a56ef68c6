"""Live classroom rules on in-memory ports: who gets in, presence without ghosts, chat limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from edu.errors import Conflict, Forbidden, NotFound, RateLimited, ValidationFailed
from edu.live.classroom import ClassroomService, RateLimit
from edu.live.models import LiveSessionIn
from edu.live.ports import Member
from edu.live.service import LiveService
from tests.support.callers import STUDENT, TEACHER
from tests.support.live import NOW, MemoryRooms, RecordingRoom, World


class Counter:
    """A rate limiter allowing `limit` hits per key."""

    def __init__(self) -> None:
        self.hits: dict[str, int] = {}

    def hit(self, key: str, limit: int, window_s: int) -> int | None:
        self.hits[key] = self.hits.get(key, 0) + 1
        return window_s if self.hits[key] > limit else None


def classroom(enrolled: set[str]) -> tuple[ClassroomService, str, MemoryRooms]:
    world = World()
    course_id = world.course()
    session = LiveService(world.store, clock=lambda: NOW).schedule(
        TEACHER, course_id, LiveSessionIn(title="Q&A", starts_at=NOW + timedelta(hours=1)))
    rooms = MemoryRooms()
    service = ClassroomService(world.store, lambda user, course: course == course_id
                               and user in enrolled, rooms, RateLimit(Counter().hit, limit=3),
        clock=lambda: datetime(2027, 1, 10, tzinfo=UTC))
    return service, session.id, rooms


def member(session_id: str, connection: str, user: str = "s-1", role: str = "student"
           ) -> Member:
    return Member(connection, session_id, user, f"name {user}", role)


def test_the_teacher_and_enrolled_students_get_in_others_do_not() -> None:
    service, session_id, _ = classroom({STUDENT.user_id})
    assert service.admit(TEACHER.user_id, "T", session_id)["role"] == "teacher"
    assert service.admit(STUDENT.user_id, "S", session_id)["role"] == "student"
    with pytest.raises(Forbidden):
        service.admit("stranger", "X", session_id)
    with pytest.raises(NotFound):
        service.admit(STUDENT.user_id, "S", "not-a-session")


def test_presence_counts_people_and_drops_ghosts() -> None:
    service, session_id, rooms = classroom({STUDENT.user_id})
    room = RecordingRoom()
    service.joined(member(session_id, "c1"), room)
    service.joined(member(session_id, "c2"), room)  # the same student in a second tab
    service.joined(member(session_id, "c3", TEACHER.user_id, "teacher"), room)
    assert service.presence(session_id)["count"] == 2
    assert [c for c, _ in room.sent] == ["c1", "c1", "c2"]  # newcomers are not posted to
    service.left(session_id, "c3", RecordingRoom(gone={"c2"}))  # c2 went without a word
    assert [m.connection_id for m in rooms.members(session_id)] == ["c1"]


def test_chat_is_bounded_limited_and_kept() -> None:
    service, session_id, _ = classroom({STUDENT.user_id})
    room = RecordingRoom()
    speaker = member(session_id, "c1")
    service.joined(speaker, room)
    for bad in ("", "   ", "x" * 2001, "bell\x07", None, 42):
        with pytest.raises(ValidationFailed):
            service.say(speaker, bad, room)
    sent = service.say(speaker, "  hello\n<i>all</i>  ", room)
    assert sent.text == "hello\n<i>all</i>"
    service.say(speaker, "two", room)
    service.say(speaker, "three", room)
    with pytest.raises(RateLimited):
        service.say(speaker, "four", room)
    assert [m["text"] for m in service.history(session_id)["messages"]] == [
        "hello\n<i>all</i>", "two", "three"]


def test_questions_are_upvoted_once_by_others_and_answered_by_the_teacher() -> None:
    service, session_id, _ = classroom({STUDENT.user_id, "s-2"})
    room = RecordingRoom()
    ann, ben = member(session_id, "c1"), member(session_id, "c2", "s-2")
    teacher = member(session_id, "c3", TEACHER.user_id, "teacher")
    first = service.ask(ann, "What is a closure?", room)
    second = service.ask(ben, "And a generator?", room)
    with pytest.raises(ValidationFailed):
        service.ask(ann, "x" * 501, room)
    with pytest.raises(Conflict):
        service.upvote(ann, first.id, room)  # not one's own
    service.upvote(ann, second.id, room)
    assert len(service.upvote(ann, second.id, room).voters) == 1  # once per student
    with pytest.raises(NotFound):
        service.upvote(ann, "not-a-question", room)
    with pytest.raises(Forbidden):
        service.answer(ann, second.id, room)
    service.answer(teacher, second.id, room)
    listed = service.questions(session_id)["questions"]
    assert [(q["id"], q["votes"], q["answered"]) for q in listed] == [
        (first.id, 0, False), (second.id, 1, True)]  # open ones first


def test_hands_and_the_session_s_life() -> None:
    service, session_id, _ = classroom({STUDENT.user_id, "s-2"})
    room = RecordingRoom()
    ann, ben = member(session_id, "c1"), member(session_id, "c2", "s-2")
    teacher = member(session_id, "c3", TEACHER.user_id, "teacher")
    service.hand(ann, True, room)
    service.hand(ben, True, room)
    service.hand(ann, True, room)  # raising again keeps its place
    assert [h["user_id"] for h in service.hand(ann, False, room)["hands"]] == ["s-2"]
    with pytest.raises(ValidationFailed):
        service.hand(ben, "yes", room)
    with pytest.raises(Forbidden):
        service.start(ann, room)
    with pytest.raises(Conflict):
        service.end(teacher, room)  # not live yet
    assert service.start(teacher, room)["status"] == "live"
    assert service.end(teacher, room)["status"] == "ended"
    with pytest.raises(NotFound):  # an ended session's room takes no one new
        service.admit(STUDENT.user_id, "S", session_id)
    kinds = [e.type for e in service.sessions.events]  # type: ignore[attr-defined]
    assert kinds[-2:] == ["live.started", "live.ended"]
