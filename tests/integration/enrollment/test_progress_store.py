"""Progress saves in DynamoDB (moto server): counters that match the lessons, and
lesson.completed / course.completed written once, also when saves race each other."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from edu.adapters.dynamo_enrollment import DynamoEnrollmentStore
from edu.adapters.dynamo_outbox import shard_of
from edu.enrollment.models import EnrollmentOut, LessonProgress
from edu.events import CourseCompleted, Envelope, LessonCompleted, make_event
from edu.ids import uuid7
from localcloud.stack import LocalCloud

pytestmark = pytest.mark.usefixtures("aws_env")  # pynamodb reads credentials from the env
LESSONS = frozenset({"l1", "l2", "l3"})


@pytest.fixture
def store(cloud: LocalCloud) -> DynamoEnrollmentStore:
    return DynamoEnrollmentStore("edu-platform-enrollments", cloud.aws_url, "us-east-1",
                                 "edu-platform-enrollments")


@pytest.fixture
def student(store: DynamoEnrollmentStore) -> tuple[str, str]:
    user_id, course_id = f"u-{uuid.uuid4().hex[:8]}", f"c-{uuid.uuid4().hex[:8]}"
    store.create_enrollment(user_id, EnrollmentOut(
        id=uuid7(), course_id=course_id, course_title="Course", status="active",
        source="free", created_at=datetime.now(UTC), total_lessons=len(LESSONS)))
    return user_id, course_id


def save(store: DynamoEnrollmentStore, user_id: str, course_id: str, lesson_id: str,
         completed: bool, enrollment: EnrollmentOut | None = None) -> Any:
    """One save as the service makes it: with the enrollment as read before it."""
    enrollment = enrollment or store.get_enrollment(user_id, course_id)
    data = {"user_id": user_id, "course_id": course_id, "teacher_id": "t"}
    lesson_events = [make_event("lesson.completed", LessonCompleted(lesson_id=lesson_id, **data),
                                source="test")]
    course_events = [make_event("course.completed", CourseCompleted(course_title="Course",
                                                                    **data), source="test")]
    saved = store.save_progress(
        user_id, course_id, LessonProgress(lesson_id=lesson_id, completed=completed,
                                           position_seconds=7, updated_at=datetime.now(UTC)),
        LESSONS, course_events, lesson_events, enrollment)
    return saved, lesson_events + course_events


def in_outbox(store: DynamoEnrollmentStore, events: list[Envelope]) -> list[bool]:
    """Which of the events were written to the outbox (in the save's transaction)."""
    return [any(True for _ in store.outbox.query(
        f"OUTBOX#{shard_of(e.id)}", store.outbox.sk == f"{e.occurred_at}#{e.id}",
        consistent_read=True)) for e in events]


def counters(store: DynamoEnrollmentStore, user_id: str, course_id: str) -> tuple[int, int]:
    e = store.get_enrollment(user_id, course_id)
    assert e is not None
    return e.completed_lessons, e.total_lessons


def test_saves_keep_counters_and_write_each_event_when_due(
        store: DynamoEnrollmentStore, student: tuple[str, str]) -> None:
    user_id, course_id = student
    saved, (lesson_ev, course_ev) = save(store, user_id, course_id, "l1", True)
    assert saved.lesson_completed_now and saved.completed_now_at is None
    assert in_outbox(store, [lesson_ev, course_ev]) == [True, False]
    assert counters(store, user_id, course_id) == (1, 3)

    saved, events = save(store, user_id, course_id, "l1", True)  # again: nothing new
    assert not saved.lesson_completed_now and in_outbox(store, events) == [False, False]
    saved, events = save(store, user_id, course_id, "l2", False)  # a position save
    assert not saved.lesson_completed_now and in_outbox(store, events) == [False, False]
    assert counters(store, user_id, course_id) == (1, 3)
    assert sorted((p.lesson_id, p.completed) for p in saved.lessons) == [
        ("l1", True), ("l2", False)]

    save(store, user_id, course_id, "l2", True)
    saved, (lesson_ev, course_ev) = save(store, user_id, course_id, "l3", True)
    assert saved.completed_now_at is not None
    assert in_outbox(store, [lesson_ev, course_ev]) == [True, True]
    assert counters(store, user_id, course_id) == (3, 3)

    save(store, user_id, course_id, "l3", False)  # un-completing lowers the counter ...
    assert counters(store, user_id, course_id) == (2, 3)
    saved, (lesson_ev, course_ev) = save(store, user_id, course_id, "l3", True)
    # ... completing it again is a new lesson completion, but the course completed once.
    assert saved.lesson_completed_now and saved.completed_now_at is None
    assert in_outbox(store, [lesson_ev, course_ev]) == [True, False]


def race(*saves: Any) -> list[Any]:
    barrier = threading.Barrier(len(saves))
    results: list[Any] = [None] * len(saves)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = saves[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(saves))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_racing_saves_of_every_lesson_count_all_and_complete_the_course_once(
        store: DynamoEnrollmentStore, student: tuple[str, str]) -> None:
    user_id, course_id = student
    stale = store.get_enrollment(user_id, course_id)  # each save read it before the others
    results = race(*[lambda lesson=lesson: save(store, user_id, course_id, lesson, True, stale)
                     for lesson in sorted(LESSONS)])
    assert counters(store, user_id, course_id) == (3, 3)
    assert all(saved.lesson_completed_now for saved, _ in results)
    assert sum(saved.completed_now_at is not None for saved, _ in results) == 1
    course_events = [events[1] for _, events in results]
    assert sorted(in_outbox(store, course_events)) == [False, False, True]


def test_racing_completions_of_one_lesson_fire_its_event_once(
        store: DynamoEnrollmentStore, student: tuple[str, str]) -> None:
    user_id, course_id = student
    stale = store.get_enrollment(user_id, course_id)
    results = race(*[lambda: save(store, user_id, course_id, "l1", True, stale)] * 2)
    assert sorted(saved.lesson_completed_now for saved, _ in results) == [False, True]
    assert counters(store, user_id, course_id) == (1, 3)
    lesson_events = [events[0] for _, events in results]
    assert sorted(in_outbox(store, lesson_events)) == [False, True]


def test_a_teacher_preview_saves_the_lesson_without_counters_or_events(
        store: DynamoEnrollmentStore) -> None:
    user_id, course_id = f"t-{uuid.uuid4().hex[:8]}", f"c-{uuid.uuid4().hex[:8]}"
    saved = store.save_progress(
        user_id, course_id, LessonProgress(lesson_id="l1", completed=True, position_seconds=1,
                                           updated_at=datetime.now(UTC)), LESSONS)
    assert [p.lesson_id for p in saved.lessons] == ["l1"]
    assert not saved.lesson_completed_now and saved.completed_now_at is None
    assert store.get_enrollment(user_id, course_id) is None
    assert [p.lesson_id for p in store.progress(user_id, course_id)] == ["l1"]


def test_models_and_transactions_share_one_dynamodb_client(
        store: DynamoEnrollmentStore, student: tuple[str, str], cloud: LocalCloud) -> None:
    # pynamodb builds a botocore client per model class; a new worker paid for each one on
    # its first request. One per process now, also across stores of other tables.
    from edu.adapters.dynamo_base import shared_client
    from edu.adapters.dynamo_identity import DynamoIdentityStore

    user_id, course_id = student
    save(store, user_id, course_id, "l1", True)  # models and a transaction, on the server
    assert [p.lesson_id for p in store.progress(user_id, course_id)] == ["l1"]
    client = shared_client(cloud.aws_url, "us-east-1")
    users = DynamoIdentityStore("edu-platform-users", cloud.aws_url, "us-east-1",
                                "edu-platform-users")
    used = [store.prog._get_connection().connection.client,
            store.enroll._get_connection().connection.client,
            store.outbox._get_connection().connection.client,
            store.connection.client, users.connection.client]
    assert all(c is client for c in used)
