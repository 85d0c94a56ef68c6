"""Live session rules: a course's verified teacher schedules and cancels its live sessions;
anyone who may see the course sees its upcoming ones (its teacher sees all of them)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from edu.auth.claims import Caller, require_verified_teacher
from edu.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from edu.events import LiveScheduled, make_event
from edu.ids import is_uuid, uuid7
from edu.live.models import LiveSession, LiveSessionIn, LiveSessionList, LiveSessionOut
from edu.live.ports import CourseInfo, LiveSessionStore

SOURCE = "edu.live"
NO_COURSE = "No course with this id."
HORIZON = timedelta(days=366)  # how far ahead a session may be scheduled


class LiveService:
    def __init__(self, store: LiveSessionStore,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store = store
        self.clock = clock

    def schedule(self, who: Caller, course_id: str, data: LiveSessionIn) -> LiveSessionOut:
        require_verified_teacher(who, "schedule live sessions")
        course = self._owned(who, course_id)
        if course.status == "archived":
            raise Conflict("The course is archived; it cannot have new live sessions.")
        now = self.clock()
        if not now <= data.starts_at <= now + HORIZON:
            raise ValidationFailed("The request is not valid.", [FieldError(
                "starts_at", "must be in the future and within a year")])
        session = LiveSession(id=uuid7(), course_id=course.id, teacher_id=who.user_id,
                              title=data.title, starts_at=data.starts_at,
                              status="scheduled", created_at=now, updated_at=now)
        self.store.create(session, [make_event("live.scheduled", LiveScheduled(
            session_id=session.id, course_id=course.id, course_title=course.title,
            teacher_id=who.user_id, title=session.title,
            starts_at=session.starts_at.astimezone(UTC).isoformat()), source=SOURCE)])
        return LiveSessionOut.model_validate(session, from_attributes=True)

    def list(self, course_id: str, who: Caller | None) -> LiveSessionList:
        course = self._course(course_id)
        owner = who is not None and who.user_id == course.teacher_id
        if course.status != "published" and not owner:
            raise NotFound(NO_COURSE)  # a draft does not admit it exists
        return LiveSessionList(items=[
            LiveSessionOut.model_validate(s, from_attributes=True)
            for s in self.store.for_course(course.id, include_past=owner)])

    def mine(self, who: Caller, enrolled_course_ids: Sequence[str]) -> LiveSessionList:
        """The caller's upcoming sessions: those of the courses it is enrolled in (the in-app
        notice of a scheduled session)."""
        return LiveSessionList(items=[
            LiveSessionOut.model_validate(s, from_attributes=True)
            for s in self.store.upcoming(enrolled_course_ids)])

    def cancel(self, who: Caller, course_id: str, session_id: str) -> LiveSessionOut:
        course = self._owned(who, course_id)
        session = self.store.get(session_id) if is_uuid(session_id) else None
        if session is None or session.course_id != course.id:
            raise NotFound("No live session with this id in the course.")
        cancelled = self.store.move(session.id, "scheduled", "cancelled", lambda _s: [])
        if cancelled is None:
            raise Conflict(f"The live session is {session.status}; only a scheduled one can "
                           "be cancelled.")
        return LiveSessionOut.model_validate(cancelled, from_attributes=True)

    def _course(self, course_id: str) -> CourseInfo:
        course = self.store.course(course_id) if is_uuid(course_id) else None
        if course is None:
            raise NotFound(NO_COURSE)
        return course

    def _owned(self, who: Caller, course_id: str) -> CourseInfo:
        course = self._course(course_id)
        if course.teacher_id != who.user_id:
            if course.status == "published":
                raise Forbidden("Only the course's teacher can manage its live sessions.")
            raise NotFound(NO_COURSE)
        return course
