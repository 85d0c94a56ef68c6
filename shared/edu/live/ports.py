"""What live sessions need from storage and from the courses context."""

from __future__ import annotations

from collections.abc import Sequence
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

    def cancel(self, session_id: str) -> LiveSession | None:
        """Marks a scheduled session cancelled; None when it was no longer scheduled."""
