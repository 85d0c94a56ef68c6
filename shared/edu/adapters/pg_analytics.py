"""Teacher analytics read models in PostgreSQL (tables in edu/migrations/0005_analytics.sql).

The projector applies each event in one transaction that also records the event id, so a
redelivered or replayed event is a no-op. Days are UTC days of the event's occurred_at.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, Literal

from psycopg import Connection
from psycopg_pool import ConnectionPool

from edu.analytics.models import (
    CourseAnalyticsOut,
    CourseTotals,
    DashboardOut,
    LessonFunnel,
    Revenue,
    SeriesPoint,
    TopCourse,
)
from edu.analytics.ports import CourseOutline
from edu.ids import is_uuid

TOP_COURSES = 5

_BUMP_DAILY = """
INSERT INTO analytics_course_daily (course_id, day, teacher_id, {column})
VALUES (%(course_id)s, %(day)s, %(teacher_id)s, 1)
ON CONFLICT (course_id, day) DO UPDATE
SET {column} = analytics_course_daily.{column} + 1"""

_BUMP_REVENUE = """
INSERT INTO analytics_revenue_daily (course_id, day, currency, teacher_id, {column})
VALUES (%(course_id)s, %(day)s, %(currency)s, %(teacher_id)s, %(amount)s)
ON CONFLICT (course_id, day, currency) DO UPDATE
SET {column} = analytics_revenue_daily.{column} + EXCLUDED.{column}"""

# A student's row: created by whichever of their events arrives first.
_TOUCH_STUDENT = """
INSERT INTO analytics_students AS s (course_id, user_id, teacher_id, enrolled_at, revoked_at,
                                     completed_at, last_active_at)
VALUES (%(course_id)s, %(user_id)s, %(teacher_id)s, %(enrolled_at)s, %(revoked_at)s,
        %(completed_at)s, %(at)s)
ON CONFLICT (course_id, user_id) DO UPDATE SET
    enrolled_at = COALESCE(EXCLUDED.enrolled_at, s.enrolled_at),
    -- a new enrollment after a refund clears the revocation
    revoked_at = CASE WHEN EXCLUDED.enrolled_at IS NOT NULL
                           AND EXCLUDED.enrolled_at > COALESCE(s.revoked_at, '-infinity')
                      THEN NULL ELSE COALESCE(EXCLUDED.revoked_at, s.revoked_at) END,
    completed_at = COALESCE(s.completed_at, EXCLUDED.completed_at),
    last_active_at = GREATEST(s.last_active_at, EXCLUDED.last_active_at)"""


def _revenue(rows: list[tuple[str, int, int]]) -> list[Revenue]:
    return [Revenue(currency=c.strip(), gross=int(g), refunded=int(r), net=int(g) - int(r))
            for c, g, r in sorted(rows)]


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


class PgAnalyticsStore:
    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    # --- projecting ------------------------------------------------------------------------

    def apply(self, event_id: str, event_type: str, occurred_at: datetime,
              data: dict[str, Any]) -> bool:
        with self.pool.connection() as conn, conn.transaction():
            first = conn.execute(
                "INSERT INTO analytics_applied_events (event_id, event_type) VALUES (%s, %s) "
                "ON CONFLICT DO NOTHING RETURNING 1", (event_id, event_type)).fetchone()
            if first is None:
                return False
            self._effects(conn, event_type, occurred_at, data)
        return True

    @staticmethod
    def _effects(conn: Connection[Any], event_type: str, at: datetime,
                 data: dict[str, Any]) -> None:
        row = {"course_id": data["course_id"], "teacher_id": data["teacher_id"],
               "user_id": data["user_id"], "day": at.date(), "at": at,
               "enrolled_at": None, "revoked_at": None, "completed_at": None}
        if event_type == "enrollment.created":
            conn.execute(_BUMP_DAILY.format(column="enrollments"), row)
            conn.execute(_TOUCH_STUDENT, {**row, "enrolled_at": at})
        elif event_type == "course.completed":
            conn.execute(_BUMP_DAILY.format(column="completions"), row)
            conn.execute(_TOUCH_STUDENT, {**row, "completed_at": at})
        elif event_type == "lesson.completed":
            conn.execute(
                "INSERT INTO analytics_lesson_completions (course_id, lesson_id, user_id, "
                "completed_at) VALUES (%(course_id)s, %(lesson_id)s, %(user_id)s, %(at)s) "
                "ON CONFLICT DO NOTHING", {**row, "lesson_id": data["lesson_id"]})
            conn.execute(_TOUCH_STUDENT, row)
        elif event_type == "payment.succeeded":
            conn.execute(_BUMP_REVENUE.format(column="gross"), {
                **row, "currency": data["currency"], "amount": data["amount"]})
        elif event_type == "payment.refunded":
            conn.execute(_BUMP_REVENUE.format(column="refunded"), {
                **row, "currency": data["currency"], "amount": data["amount"]})
            conn.execute(_BUMP_DAILY.format(column="refunds"), row)
            conn.execute(_TOUCH_STUDENT, {**row, "revoked_at": at})

    # --- reading ---------------------------------------------------------------------------

    def course(self, course_id: str) -> CourseOutline | None:
        if not is_uuid(course_id):
            return None
        with self.pool.connection() as conn:
            row = conn.execute("SELECT title, teacher_id, status FROM courses WHERE id = %s",
                               (course_id,)).fetchone()
        return CourseOutline(course_id, *row) if row else None

    def dashboard(self, teacher_id: str, now: datetime) -> DashboardOut:
        with self.pool.connection() as conn:
            students = conn.execute(
                "SELECT count(DISTINCT user_id) FILTER (WHERE enrolled), "
                "       count(DISTINCT user_id) FILTER (WHERE enrolled AND last_active_at >= %s),"
                "       count(DISTINCT user_id) FILTER (WHERE enrolled AND last_active_at >= %s),"
                "       count(*) FILTER (WHERE enrolled), "
                "       count(*) FILTER (WHERE enrolled AND completed_at IS NOT NULL) "
                "FROM (SELECT user_id, last_active_at, completed_at, "
                "             enrolled_at IS NOT NULL AND revoked_at IS NULL AS enrolled "
                "      FROM analytics_students WHERE teacher_id = %s) s",
                (now - timedelta(days=7), now - timedelta(days=30), teacher_id)).fetchone()
            assert students is not None
            totals = conn.execute(
                "SELECT COALESCE(sum(enrollments), 0), COALESCE(sum(completions), 0), "
                "       COALESCE(sum(refunds), 0) "
                "FROM analytics_course_daily WHERE teacher_id = %s", (teacher_id,)).fetchone()
            assert totals is not None
            revenue = conn.execute(
                "SELECT currency, sum(gross), sum(refunded) FROM analytics_revenue_daily "
                "WHERE teacher_id = %s GROUP BY currency", (teacher_id,)).fetchall()
            top = conn.execute(
                "SELECT t.course_id::text, c.title, t.enrollments, t.completions FROM ("
                "  SELECT course_id, sum(enrollments) AS enrollments, "
                "         sum(completions) AS completions "
                "  FROM analytics_course_daily WHERE teacher_id = %s GROUP BY course_id "
                "  ORDER BY 2 DESC, 1 LIMIT %s) t JOIN courses c ON c.id = t.course_id "
                "ORDER BY t.enrollments DESC, t.course_id",
                (teacher_id, TOP_COURSES)).fetchall()
            courses = conn.execute("SELECT count(*) FROM courses WHERE teacher_id = %s",
                                   (teacher_id,)).fetchone()
        distinct, active7, active30, enrolled, completed = students
        return DashboardOut(
            courses=int(courses[0]) if courses else 0, students=distinct,
            active_students_7d=active7, active_students_30d=active30,
            enrollments=int(totals[0]), completions=int(totals[1]), refunds=int(totals[2]),
            completion_rate=_rate(completed, enrolled), revenue=_revenue(revenue),
            top_courses=[TopCourse(course_id=c, title=t, enrollments=int(e),
                                   completions=int(d)) for c, t, e, d in top])

    def course_analytics(self, course: CourseOutline, start: date, end: date,
                         granularity: Literal["day", "week"]) -> CourseAnalyticsOut:
        args = {"course_id": course.id, "start": start, "end": end, "unit": granularity}
        with self.pool.connection() as conn:
            series = conn.execute(
                "SELECT p::date, COALESCE(sum(d.enrollments), 0), "
                "       COALESCE(sum(d.completions), 0), COALESCE(sum(d.refunds), 0) "
                "FROM generate_series(date_trunc(%(unit)s, %(start)s::date::timestamp), "
                "                     %(end)s::date::timestamp, ('1 ' || %(unit)s)::interval) p "
                "LEFT JOIN analytics_course_daily d ON d.course_id = %(course_id)s "
                "     AND d.day BETWEEN %(start)s AND %(end)s "
                "     AND date_trunc(%(unit)s, d.day::timestamp) = p "
                "GROUP BY p ORDER BY p", args).fetchall()
            revenue = conn.execute(
                "SELECT date_trunc(%(unit)s, day::timestamp)::date, currency, sum(gross), "
                "       sum(refunded) FROM analytics_revenue_daily WHERE course_id = %(course_id)s "
                "AND day BETWEEN %(start)s AND %(end)s GROUP BY 1, 2", args).fetchall()
            students = conn.execute(
                "SELECT count(*) FROM analytics_students WHERE course_id = %(course_id)s "
                "AND enrolled_at IS NOT NULL AND revoked_at IS NULL", args).fetchone()
            lessons = conn.execute(
                "SELECT l.id::text, l.title, COALESCE(done.n, 0) FROM lessons l "
                "JOIN sections s ON s.id = l.section_id "
                "LEFT JOIN (SELECT lesson_id, count(*) AS n FROM analytics_lesson_completions "
                "           WHERE course_id = %(course_id)s GROUP BY lesson_id) done "
                "     ON done.lesson_id = l.id "
                "WHERE l.course_id = %(course_id)s ORDER BY s.position, l.position",
                args).fetchall()
        by_period: dict[date, list[tuple[str, int, int]]] = defaultdict(list)
        for period, currency, gross, refunded in revenue:
            by_period[period].append((currency, gross, refunded))
        points = [SeriesPoint(period_start=p, enrollments=int(e), completions=int(c),
                              refunds=int(r), revenue=_revenue(by_period[p]))
                  for p, e, c, r in series]
        summed: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for rows in by_period.values():
            for currency, gross, refunded in rows:
                summed[currency][0] += int(gross)
                summed[currency][1] += int(refunded)
        enrolled = int(students[0]) if students else 0
        funnel: list[LessonFunnel] = []
        previous = 0
        for position, (lesson_id, title, done) in enumerate(lessons, start=1):
            funnel.append(LessonFunnel(
                lesson_id=lesson_id, title=title, position=position, completions=int(done),
                reached_rate=_rate(int(done), enrolled),
                drop_off_rate=round(max(0.0, 1 - int(done) / previous), 4) if previous else 0.0))
            previous = int(done)
        return CourseAnalyticsOut(
            course_id=course.id, title=course.title, start=start, end=end,
            granularity=granularity, students=enrolled,
            totals=CourseTotals(enrollments=sum(p.enrollments for p in points),
                                completions=sum(p.completions for p in points),
                                refunds=sum(p.refunds for p in points),
                                revenue=_revenue([(c, g, r) for c, (g, r) in summed.items()])),
            series=points, lessons=funnel)


class PgCourseRoster:
    """A course's enrolled students, from the analytics read model (`analytics_students`,
    fed by enrollment events): the pool is asked for on first use, so a consumer that never
    needs a roster never connects."""

    def __init__(self, pool: Callable[[], ConnectionPool]) -> None:
        self.pool = pool

    def students(self, course_id: str) -> list[str]:
        with self.pool().connection() as conn:
            rows = conn.execute(
                "SELECT user_id FROM analytics_students WHERE course_id = %s "
                "AND enrolled_at IS NOT NULL AND revoked_at IS NULL ORDER BY user_id",
                (course_id,)).fetchall()
        return [str(row[0]) for row in rows]
