"""The analytics projector against real PostgreSQL: a shuffled event stream with duplicates
projects to exactly what a direct recount of the unique events gives."""

from __future__ import annotations

import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from psycopg_pool import ConnectionPool
from redis import Redis

from edu.adapters.pg_analytics import PgAnalyticsStore
from edu.adapters.pg_courses import PgCourseRepository
from edu.adapters.redis_cache import RedisCache
from edu.analytics.models import AnalyticsQuery
from edu.analytics.service import AnalyticsService
from edu.auth.claims import Caller
from edu.courses.models import SyllabusOut
from edu.courses.service import CourseService
from edu.errors import Forbidden, NotFound
from edu.events import Envelope, make_event
from edu.pagination import CursorCodec
from localcloud.stack import LocalCloud
from tests.support.authoring import authored_course, new_teacher

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def courses(pool: ConnectionPool, cloud: LocalCloud) -> Iterator[CourseService]:
    client = Redis.from_url(cloud.redis_url)
    yield CourseService(PgCourseRepository(pool), RedisCache(client, ttl_s=60,
                                                              prefix="analytics-test:"),
                        CursorCodec("s"))
    client.close()


@pytest.fixture(scope="module")
def analytics(pool: ConnectionPool) -> AnalyticsService:
    return AnalyticsService(PgAnalyticsStore(pool), clock=lambda: NOW)


@dataclass
class World:
    """The events of one teacher's courses, and the facts a recount derives from them."""

    teacher: Caller
    lessons: dict[str, list[str]]  # course -> lesson ids in syllabus order
    prices: dict[str, int]
    events: list[Envelope] = field(default_factory=list)

    def emit(self, event_type: str, at: datetime, **data: Any) -> None:
        envelope = make_event(event_type, data, source="test")
        self.events.append(envelope.model_copy(update={
            "occurred_at": at.isoformat().replace("+00:00", "Z")}))

    def of(self, event_type: str, course_id: str | None = None) -> list[Envelope]:
        return [e for e in self.events if e.type == event_type
                and (course_id is None or e.data["course_id"] == course_id)]


def build_world(courses: CourseService, rng: random.Random) -> World:
    teacher = new_teacher()
    lessons: dict[str, list[str]] = {}
    prices: dict[str, int] = {}
    for n, price in enumerate((0, 1500, 2500)):
        cid, _ = authored_course(courses, f"Analytics {n}", "analytics", price=price,
                                 teacher=teacher, lessons=3)
        lessons[cid] = [lesson.id for s in SyllabusOut.model_validate_json(
                            courses.syllabus_json(cid, teacher)).sections
                        for lesson in s.lessons]
        prices[cid] = price
    world = World(teacher, lessons, prices)
    students = [f"s-{uuid.uuid4().hex[:8]}" for _ in range(14)]
    for user in students:
        for cid, lesson_ids in lessons.items():
            if rng.random() > 0.6:
                continue
            common = {"user_id": user, "course_id": cid, "teacher_id": teacher.user_id}
            at = NOW - timedelta(days=rng.randint(0, 40), hours=rng.randint(0, 23))
            payment_id = str(uuid.uuid4())
            if prices[cid]:
                world.emit("payment.succeeded", at, payment_id=payment_id, amount=prices[cid],
                           currency="usd", provider_ref="pi_x", **common)
            world.emit("enrollment.created", at, enrollment_id=str(uuid.uuid4()),
                       course_title="t", source="payment" if prices[cid] else "free",
                       payment_id=payment_id if prices[cid] else None, **common)
            if prices[cid] and rng.random() < 0.2:
                world.emit("payment.refunded", at + timedelta(hours=2), payment_id=payment_id,
                           amount=prices[cid], currency="usd", **common)
                continue
            done = rng.randint(0, len(lesson_ids))
            for k, lesson_id in enumerate(lesson_ids[:done], start=1):
                at = min(NOW, at + timedelta(days=k))
                world.emit("lesson.completed", at, lesson_id=lesson_id, **common)
            if done == len(lesson_ids):
                world.emit("course.completed", at, course_title="t", **common)
    return world


@pytest.fixture(scope="module")
def world(courses: CourseService, analytics: AnalyticsService) -> World:
    rng = random.Random(7)
    world = build_world(courses, rng)
    deliveries = [e for e in world.events for _ in range(rng.randint(1, 3))]
    rng.shuffle(deliveries)  # out of order, and most events more than once
    outcomes = Counter(analytics.project(e.model_dump()) for e in deliveries)
    assert outcomes["applied"] == len(world.events)
    assert outcomes["duplicate"] == len(deliveries) - len(world.events)
    return world


def recount_students(world: World) -> dict[tuple[str, str], datetime | None]:
    """(user, course) of current students -> their last activity."""
    revoked = {(e.data["user_id"], e.data["course_id"]) for e in world.of("payment.refunded")}
    last: dict[tuple[str, str], datetime] = {}
    for e in world.events:
        if e.type in ("enrollment.created", "lesson.completed", "course.completed"):
            key = (e.data["user_id"], e.data["course_id"])
            at = datetime.fromisoformat(e.occurred_at.replace("Z", "+00:00"))
            last[key] = max(last.get(key, at), at)
    enrolled = {(e.data["user_id"], e.data["course_id"]) for e in world.of("enrollment.created")}
    return {k: last.get(k) for k in enrolled - revoked}


def test_dashboard_equals_a_recount(world: World, analytics: AnalyticsService) -> None:
    board = analytics.dashboard(world.teacher)
    current = recount_students(world)
    completed = {(e.data["user_id"], e.data["course_id"]) for e in world.of("course.completed")}

    def active(days: int) -> int:
        return len({u for (u, _), at in current.items()
                    if at is not None and at >= NOW - timedelta(days=days)})

    assert board.courses == 3
    assert board.enrollments == len(world.of("enrollment.created")) > 0
    assert board.completions == len(world.of("course.completed")) > 0
    assert board.refunds == len(world.of("payment.refunded")) > 0
    assert board.students == len({u for u, _ in current})
    assert (board.active_students_7d, board.active_students_30d) == (active(7), active(30))
    assert board.completion_rate == round(len(completed & set(current)) / len(current), 4)
    gross = sum(e.data["amount"] for e in world.of("payment.succeeded"))
    refunded = sum(e.data["amount"] for e in world.of("payment.refunded"))
    assert [(r.currency, r.gross, r.refunded, r.net) for r in board.revenue] == [
        ("usd", gross, refunded, gross - refunded)]
    by_course = Counter(e.data["course_id"] for e in world.of("enrollment.created"))
    assert [(c.course_id, c.enrollments) for c in board.top_courses] == sorted(
        by_course.items(), key=lambda kv: (-kv[1], kv[0]))


def test_course_series_and_funnel_equal_a_recount(world: World,
                                                  analytics: AnalyticsService) -> None:
    start, end = NOW.date() - timedelta(days=29), NOW.date()
    for cid, lesson_ids in world.lessons.items():
        report = analytics.course_analytics(world.teacher, cid, AnalyticsQuery())
        assert (report.start, report.end, report.granularity) == (start, end, "day")
        assert [p.period_start for p in report.series] == [
            start + timedelta(days=n) for n in range(30)]

        def daily(event_type: str, cid: str = cid) -> Counter[date]:
            days = (datetime.fromisoformat(e.occurred_at.replace("Z", "+00:00")).date()
                    for e in world.of(event_type, cid))
            return Counter(d for d in days if start <= d <= end)

        enrollments, completions = daily("enrollment.created"), daily("course.completed")
        assert {p.period_start: p.enrollments for p in report.series if p.enrollments} == \
            dict(enrollments)
        assert {p.period_start: p.completions for p in report.series if p.completions} == \
            dict(completions)
        assert report.totals.enrollments == sum(enrollments.values())
        paid = sum(e.data["amount"] for e in world.of("payment.succeeded", cid)
                   if start <= datetime.fromisoformat(
                       e.occurred_at.replace("Z", "+00:00")).date() <= end)
        assert sum(r.gross for r in report.totals.revenue) == paid
        students = [k for k in recount_students(world) if k[1] == cid]
        assert report.students == len(students)
        done = Counter(e.data["lesson_id"] for e in world.of("lesson.completed", cid))
        assert [(f.lesson_id, f.completions) for f in report.lessons] == [
            (lid, done[lid]) for lid in lesson_ids]
        assert report.lessons[0].drop_off_rate == 0.0


def test_weekly_series_sums_the_days(world: World, analytics: AnalyticsService) -> None:
    cid = next(iter(world.lessons))
    query = AnalyticsQuery.model_validate({"from": str(NOW.date() - timedelta(days=60)),
                                           "granularity": "week"})
    weekly = analytics.course_analytics(world.teacher, cid, query)
    daily = analytics.course_analytics(world.teacher, cid, AnalyticsQuery.model_validate(
        {"from": str(NOW.date() - timedelta(days=60))}))
    assert all(p.period_start.weekday() == 0 for p in weekly.series)  # ISO weeks: Mondays
    assert weekly.totals == daily.totals
    weeks: dict[date, int] = defaultdict(int)
    for p in daily.series:
        weeks[p.period_start - timedelta(days=p.period_start.weekday())] += p.enrollments
    assert {p.period_start: p.enrollments for p in weekly.series} == dict(weeks)


def test_redelivering_everything_changes_nothing(world: World,
                                                 analytics: AnalyticsService) -> None:
    before = analytics.dashboard(world.teacher)
    assert {analytics.project(e.model_dump()) for e in world.events} == {"duplicate"}
    assert analytics.dashboard(world.teacher) == before


def test_only_the_verified_owner_reads_a_course(world: World, analytics: AnalyticsService,
                                               courses: CourseService) -> None:
    cid = next(iter(world.lessons))
    other = new_teacher()
    with pytest.raises(Forbidden):
        analytics.course_analytics(other, cid, AnalyticsQuery())  # published: exists anyway
    draft, _ = authored_course(courses, "Draft", "analytics", teacher=world.teacher,
                               publish=False)
    with pytest.raises(NotFound):
        analytics.course_analytics(other, draft, AnalyticsQuery())
    with pytest.raises(NotFound):
        analytics.course_analytics(world.teacher, "not-a-uuid", AnalyticsQuery())
    student = Caller(user_id="s-1", email="s@example.com", role="student", is_verified=True,
                     session_id=None)
    unverified = Caller(**{**world.teacher.__dict__, "is_verified": False})
    for who in (student, unverified):
        with pytest.raises(Forbidden):
            analytics.dashboard(who)
    assert analytics.dashboard(other).enrollments == 0
    assert analytics.project({"id": "x", "type": "user.created", "occurred_at": "",
                              "data": {}}) == "ignored: user.created"
