"""What analytics needs from storage: apply an event once, and read the rollups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, Protocol

from edu.analytics.models import CourseAnalyticsOut, DashboardOut


@dataclass(frozen=True)
class CourseOutline:
    id: str
    title: str
    teacher_id: str
    status: str


class AnalyticsStore(Protocol):
    def apply(self, event_id: str, event_type: str, occurred_at: datetime,
              data: dict[str, Any]) -> bool:
        """Applies one event's effects and records its id, in one transaction; False (and
        no change) when the id was applied before."""

    def course(self, course_id: str) -> CourseOutline | None: ...

    def dashboard(self, teacher_id: str, now: datetime) -> DashboardOut: ...

    def course_analytics(self, course: CourseOutline, start: date, end: date,
                         granularity: Literal["day", "week"]) -> CourseAnalyticsOut: ...
