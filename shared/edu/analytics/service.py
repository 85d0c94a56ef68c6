"""Teacher analytics: the projector's rules (which events count, once) and who may read."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from edu.analytics.models import AnalyticsQuery, CourseAnalyticsOut, DashboardOut
from edu.analytics.ports import AnalyticsStore
from edu.auth.claims import Caller, require_verified_teacher
from edu.errors import Forbidden, NotFound

PROJECTED = frozenset({"enrollment.created", "payment.succeeded", "payment.refunded",
                       "course.completed", "lesson.completed"})
NOT_FOUND = "No course with this id."


def parse_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class AnalyticsService:
    def __init__(self, store: AnalyticsStore,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store = store
        self.clock = clock

    def project(self, envelope: Mapping[str, Any]) -> str:
        """Applies one event envelope to the read models; what happened, for the log."""
        event_type = str(envelope.get("type", ""))
        if event_type not in PROJECTED:
            return f"ignored: {event_type}"
        applied = self.store.apply(str(envelope["id"]), event_type,
                                   parse_time(str(envelope["occurred_at"])),
                                   dict(envelope["data"]))
        return "applied" if applied else "duplicate"

    def dashboard(self, who: Caller) -> DashboardOut:
        self._teacher(who)
        return self.store.dashboard(who.user_id, self.clock())

    def course_analytics(self, who: Caller, course_id: str, query: AnalyticsQuery
                         ) -> CourseAnalyticsOut:
        self._teacher(who)
        course = self.store.course(course_id)
        if course is None:
            raise NotFound(NOT_FOUND)
        if course.teacher_id != who.user_id:
            if course.status == "published":  # its existence is public anyway
                raise Forbidden("Only the course's teacher can read its analytics.")
            raise NotFound(NOT_FOUND)
        start, end = query.bounds(self.clock().date())
        return self.store.course_analytics(course, start, end, query.granularity)

    @staticmethod
    def _teacher(who: Caller) -> None:
        require_verified_teacher(who, "read course analytics")
