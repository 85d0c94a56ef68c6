"""Analytics inputs (query parameters) and outputs (dashboard, course time series)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_RANGE_DAYS = 731  # two years of daily points is already more than a chart can show


class Revenue(BaseModel):
    """Money earned in one currency (minor units): gross payments, refunds, and the net."""

    currency: str
    gross: int
    refunded: int
    net: int


class TopCourse(BaseModel):
    course_id: str
    title: str
    enrollments: int
    completions: int


class DashboardOut(BaseModel):
    courses: int = Field(description="courses the teacher has created")
    students: int = Field(description="distinct students enrolled now (refunds excluded)")
    active_students_7d: int = Field(description="distinct students active in the last 7 days")
    active_students_30d: int
    enrollments: int = Field(description="enrollments ever (refunded ones included)")
    completions: int
    refunds: int
    completion_rate: float = Field(description="completed / enrolled students, 0..1")
    revenue: list[Revenue]
    top_courses: list[TopCourse] = Field(description="most enrolled courses, at most 5")


FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2199, 12, 31)


class AnalyticsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    # Days far outside any data are refused: the range arithmetic (a default range of 30
    # days, an exclusive end) must stay within the calendar's years 1-9999.
    from_: date | None = Field(None, alias="from", ge=FIRST_DAY, le=LAST_DAY,
                               description="first day (UTC), inclusive")
    to: date | None = Field(None, ge=FIRST_DAY, le=LAST_DAY,
                            description="last day (UTC), inclusive; default today")
    granularity: Literal["day", "week"] = "day"

    @model_validator(mode="after")
    def _range(self) -> AnalyticsQuery:
        if self.from_ and self.to and self.from_ > self.to:
            raise ValueError("'from' must not be after 'to'")
        if self.from_ and self.to and (self.to - self.from_).days >= MAX_RANGE_DAYS:
            raise ValueError(f"the range may span at most {MAX_RANGE_DAYS} days")
        return self

    def bounds(self, today: date) -> tuple[date, date]:
        """The range asked for; by default the last 30 days up to today."""
        to = self.to or (today if self.from_ is None or self.from_ <= today
                         else self.from_ + timedelta(days=29))
        start = self.from_ or to - timedelta(days=29)
        if (to - start).days >= MAX_RANGE_DAYS:
            start = to - timedelta(days=MAX_RANGE_DAYS - 1)
        return start, to


class CourseTotals(BaseModel):
    enrollments: int
    completions: int
    refunds: int
    revenue: list[Revenue]


class SeriesPoint(CourseTotals):
    """The counts of one day or week."""

    period_start: date


class LessonFunnel(BaseModel):
    lesson_id: str
    title: str
    position: int = Field(description="1-based order in the syllabus")
    completions: int = Field(description="distinct students who completed the lesson")
    reached_rate: float = Field(description="completions / students enrolled now, 0..1")
    drop_off_rate: float = Field(
        description="share of the previous lesson's completers who did not complete this "
                    "one, 0..1 (0 for the first lesson)")



class CourseAnalyticsOut(BaseModel):
    course_id: str
    title: str
    start: date = Field(description="the range's first day ('from')")
    end: date = Field(description="the range's last day ('to')")
    granularity: Literal["day", "week"]
    students: int = Field(description="students enrolled now (refunds excluded)")
    totals: CourseTotals = Field(description="sums over the range")
    series: list[SeriesPoint]
    lessons: list[LessonFunnel]
