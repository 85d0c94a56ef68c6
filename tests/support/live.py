"""In-memory implementations of the live sessions' and classroom's ports, and a course
service with a live session service over them, for fast live rule tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from edu.courses.models import CourseIn, LessonIn, SectionIn
from edu.courses.service import CourseService
from edu.events import Envelope
from edu.live.models import OPEN, LiveSession
from edu.live.ports import CourseInfo, Member, Question, RoomMessage
from edu.live.service import LiveService
from edu.pagination import CursorCodec
from tests.support.callers import TEACHER
from tests.support.fakes import MemoryCache, MemoryCourses

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





class MemoryRooms:
    """RoomStore over dicts."""

    def __init__(self) -> None:
        self.rooms: dict[str, dict[str, Member]] = {}
        self.messages: dict[str, list[RoomMessage]] = {}
        self.asked: dict[str, dict[str, Question]] = {}
        self.raised: dict[str, dict[str, str]] = {}  # insertion order: first raised first

    def add(self, member: Member) -> None:
        self.rooms.setdefault(member.session_id, {})[member.connection_id] = member

    def remove(self, session_id: str, connection_id: str) -> None:
        self.rooms.get(session_id, {}).pop(connection_id, None)

    def members(self, session_id: str) -> list[Member]:
        return list(self.rooms.get(session_id, {}).values())

    def append(self, session_id: str, message: RoomMessage) -> None:
        self.messages.setdefault(session_id, []).append(message)

    def recent(self, session_id: str, limit: int) -> list[RoomMessage]:
        return self.messages.get(session_id, [])[-limit:]

    def ask(self, session_id: str, question: Question) -> None:
        self.asked.setdefault(session_id, {})[question.id] = question

    def question(self, session_id: str, question_id: str) -> Question | None:
        return self.asked.get(session_id, {}).get(question_id)

    def vote(self, session_id: str, question_id: str, user_id: str) -> Question | None:
        return self._change(session_id, question_id,
                            lambda q: replace(q, voters=q.voters | {user_id}))

    def answered(self, session_id: str, question_id: str) -> Question | None:
        return self._change(session_id, question_id, lambda q: replace(q, answered=True))

    def questions(self, session_id: str) -> list[Question]:
        return list(self.asked.get(session_id, {}).values())

    def hand(self, session_id: str, user_id: str, name: str, raised: bool) -> None:
        hands = self.raised.setdefault(session_id, {})
        if raised:
            hands.setdefault(user_id, name)
        else:
            hands.pop(user_id, None)

    def hands(self, session_id: str) -> list[tuple[str, str]]:
        return list(self.raised.get(session_id, {}).items())

    def _change(self, session_id: str, question_id: str,
                change: Callable[[Question], Question]) -> Question | None:
        found = self.question(session_id, question_id)
        if found is None:
            return None
        self.asked[session_id][question_id] = change(found)
        return self.asked[session_id][question_id]


class RecordingRoom:
    """A Broadcaster that records what each connection was sent; `gone` ones are not there."""

    def __init__(self, gone: set[str] | None = None) -> None:
        self.gone = gone or set()
        self.sent: list[tuple[str, dict[str, object]]] = []

    def send(self, connection_ids: Sequence[str], payload: dict[str, object]) -> list[str]:
        self.sent += [(c, payload) for c in connection_ids if c not in self.gone]
        return [c for c in connection_ids if c in self.gone]


class MemoryLiveSessions:
    """LiveSessionStore over dicts, reading courses from a MemoryCourses."""

    def __init__(self, courses: MemoryCourses) -> None:
        self.courses = courses
        self.sessions: dict[str, LiveSession] = {}
        self.events: list[Envelope] = []

    def course(self, course_id: str) -> CourseInfo | None:
        found = self.courses.get(course_id)
        return CourseInfo(found.id, found.title, found.teacher_id, found.status) \
            if found else None

    def create(self, session: LiveSession, events: Sequence[Envelope] = ()) -> None:
        self.sessions[session.id] = session
        self.events += events

    def get(self, session_id: str) -> LiveSession | None:
        return self.sessions.get(session_id)

    def for_course(self, course_id: str, include_past: bool) -> list[LiveSession]:
        return sorted((s for s in self.sessions.values() if s.course_id == course_id and (
            include_past or s.status in OPEN)), key=lambda s: s.starts_at)

    def upcoming(self, course_ids: Sequence[str]) -> list[LiveSession]:
        return sorted((s for s in self.sessions.values() if s.course_id in course_ids
                       and s.status in OPEN), key=lambda s: s.starts_at)[:100]

    def move(self, session_id: str, from_status: str, to_status: str,
             events: Callable[[LiveSession], Sequence[Envelope]]) -> LiveSession | None:
        session = self.sessions.get(session_id)
        if session is None or session.status != from_status:
            return None
        self.sessions[session_id] = session.model_copy(update={"status": to_status})
        self.events += events(self.sessions[session_id])
        return self.sessions[session_id]
