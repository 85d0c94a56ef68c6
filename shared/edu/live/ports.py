"""What live sessions need from storage and from the courses context."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from edu.events import Envelope
from edu.live.models import LiveSession


@dataclass(frozen=True)
class CourseInfo:
    """What scheduling needs to know of a course."""

    id: str
    title: str
    teacher_id: str
    status: str


class LiveSessionStore(Protocol):
    def course(self, course_id: str) -> CourseInfo | None: ...

    def create(self, session: LiveSession, events: Sequence[Envelope] = ()) -> None:
        """Stores the session with its events' outbox rows, in one transaction."""

    def get(self, session_id: str) -> LiveSession | None: ...

    def for_course(self, course_id: str, include_past: bool) -> list[LiveSession]:
        """The course's sessions by start time (cancelled and ended ones only when
        `include_past`)."""

    def upcoming(self, course_ids: Sequence[str]) -> list[LiveSession]:
        """The scheduled and live sessions of these courses, soonest first (at most 100)."""

    def move(self, session_id: str, from_status: str, to_status: str,
             events: Callable[[LiveSession], Sequence[Envelope]]) -> LiveSession | None:
        """Moves the session from one status to the next, with the events built from the
        moved session in the same transaction; None when it was not in `from_status`."""


@dataclass(frozen=True)
class Member:
    """One open connection in a live session's room."""

    connection_id: str
    session_id: str
    user_id: str
    name: str
    role: str  # "teacher" (the course's) or "student"


@dataclass(frozen=True)
class RoomMessage:
    id: str
    user_id: str
    name: str
    role: str
    text: str
    at: str  # ISO 8601, UTC, sortable


@dataclass(frozen=True)
class Question:
    id: str
    user_id: str
    name: str
    text: str
    at: str
    voters: frozenset[str] = frozenset()
    answered: bool = False


class RoomStore(Protocol):
    """The rooms' connections, chat history, questions and raised hands (DynamoDB, TTLs)."""

    def add(self, member: Member) -> None:
        """Records the member's connection, or renews its record (each message does)."""

    def remove(self, session_id: str, connection_id: str) -> None: ...

    def members(self, session_id: str) -> list[Member]: ...

    def append(self, session_id: str, message: RoomMessage) -> None: ...

    def recent(self, session_id: str, limit: int) -> list[RoomMessage]:
        """The room's last `limit` messages, oldest first."""

    def ask(self, session_id: str, question: Question) -> None: ...

    def question(self, session_id: str, question_id: str) -> Question | None: ...

    def vote(self, session_id: str, question_id: str, user_id: str) -> Question | None:
        """Adds the user's vote (once; a second is no change); None for no such question."""

    def answered(self, session_id: str, question_id: str) -> Question | None: ...

    def questions(self, session_id: str) -> list[Question]: ...

    def hand(self, session_id: str, user_id: str, name: str, raised: bool) -> None: ...

    def hands(self, session_id: str) -> list[tuple[str, str]]:
        """(user id, name) of raised hands, first raised first."""


class Broadcaster(Protocol):
    def send(self, connection_ids: Sequence[str], payload: dict[str, object]) -> list[str]:
        """Sends `payload` (as JSON) to each connection; the ids of those that are gone."""
