"""`edu seed`'s courses carry syllabi shaped like real ones, the same shape on every run."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from edu.adapters.pg_courses import PgCourseRepository
from localcloud.aws import local_client
from localcloud.platform_tasks import seed
from localcloud.seed import LESSONS, SECTIONS, reset_dynamo, seed_courses
from localcloud.stack import LocalCloud
from tests.support.databases import scratch_database

COURSES = 240


@pytest.fixture(scope="module")
def seeded(cloud: LocalCloud) -> Iterator[str]:
    with scratch_database(cloud.database_url, "seed") as url:
        seed_courses(url, COURSES, teachers=20)
        yield url


def shapes(url: str) -> dict[str, list[tuple[str, list[tuple[str, str, bool]]]]]:
    """Each seeded course's syllabus (by its stable subtitle, not its random id): section
    titles with their lessons' (title, kind, free preview), in syllabus order."""
    with psycopg.connect(url) as conn:
        courses = conn.execute("SELECT id::text, subtitle FROM courses").fetchall()
    with ConnectionPool(url, min_size=1, max_size=1, kwargs={"autocommit": True}) as pool:
        repo = PgCourseRepository(pool)
        out: dict[str, Any] = {}
        for course_id, subtitle in courses:
            out[subtitle] = [(s.title, [(lesson.title, lesson.kind, lesson.free_preview)
                                        for lesson in s.lessons])
                             for s in repo.syllabus(course_id)]
        return out


def test_every_course_has_a_varied_realistic_syllabus(seeded: str) -> None:
    with psycopg.connect(seeded) as conn:
        sections = conn.execute(
            "SELECT course_id, count(*), array_agg(position ORDER BY position) "
            "FROM sections GROUP BY course_id").fetchall()
        lessons = conn.execute(
            "SELECT section_id, count(*), array_agg(position ORDER BY position), "
            "       count(*) FILTER (WHERE kind = 'text' AND body <> ''), "
            "       count(*) FILTER (WHERE kind = 'video' AND body = '') "
            "FROM lessons GROUP BY section_id").fetchall()
        previews = conn.execute(
            "SELECT l.course_id, s.position, l.position FROM lessons l "
            "JOIN sections s ON s.id = l.section_id WHERE l.free_preview").fetchall()
        mismatched = conn.execute(
            "SELECT count(*) FROM lessons l JOIN sections s ON s.id = l.section_id "
            "WHERE s.course_id <> l.course_id").fetchone()

    assert len(sections) == COURSES
    assert all(positions == list(range(n)) for _, n, positions in sections)
    section_counts = Counter(n for _, n, _ in sections)
    assert set(section_counts) == set(range(SECTIONS[0], SECTIONS[1] + 1))

    assert len(lessons) == sum(n for _, n, _ in sections)  # no section left empty
    assert all(positions == list(range(n)) for _, n, positions, _, _ in lessons)
    lesson_counts = Counter(n for _, n, _, _, _ in lessons)
    assert set(lesson_counts) == set(range(LESSONS[0], LESSONS[1] + 1))
    text = sum(t for *_, t, _ in lessons)
    video = sum(v for *_, v in lessons)
    assert text + video == sum(n for _, n, _, _, _ in lessons)  # text has a body, video none
    assert 0.15 < text / (text + video) < 0.35

    assert sorted(course for course, _, _ in previews) == sorted(c for c, _, _ in sections)
    assert {(s, p) for _, s, p in previews} == {(0, 0)}  # the first lesson, once per course
    assert mismatched == (0,)


def test_reseeding_gives_every_course_the_same_syllabus(cloud: LocalCloud) -> None:
    with scratch_database(cloud.database_url, "reseed") as url:
        seed_courses(url, 60, teachers=5)
        first = shapes(url)
        seed_courses(url, 60, teachers=5)  # replaces the seeded courses
        again = shapes(url)
    assert len(first) == 60
    assert again == first
    assert len({str(v) for v in first.values()}) > 30  # courses differ from each other


def test_edu_seed_fills_courses_users_and_enrollments_that_agree(cloud: LocalCloud) -> None:
    # `edu seed` as a whole (courses beside users, then enrollments and analytics), into a
    # scratch database and the session's DynamoDB tables (its seeded items removed after).
    tpl = cloud.template()
    users_table = tpl.resources["UsersTable"].physical_name
    enrollments_table = tpl.resources["EnrollmentsTable"].physical_name
    dynamodb = local_client("dynamodb", cloud.aws_url, tpl.region)
    with scratch_database(cloud.database_url, "eduseed") as url:
        target = SimpleNamespace(database_url=url, aws_url=cloud.aws_url,
                                 template=cloud.template)
        try:
            lines = seed(target, users=14, courses=40, teachers=4,  # type: ignore[arg-type]
                         enrollments=30, progress=False)
            with psycopg.connect(url) as conn:
                lessons = dict(conn.execute(
                    "SELECT course_id::text, count(*) FROM lessons GROUP BY 1").fetchall())
                students = conn.execute(
                    "SELECT count(*) FROM analytics_students").fetchone()
            enrolled = [item for n in range(10)  # the 14 users: 10 students, 4 teachers
                        for page in dynamodb.get_paginator("query").paginate(
                            TableName=enrollments_table, KeyConditionExpression="pk = :pk",
                            ExpressionAttributeValues={":pk": {"S": f"USER#seed-student-{n}"}})
                        for item in page["Items"]]
            teacher = dynamodb.get_item(TableName=users_table, Key={
                "pk": {"S": "USER#seed-teacher-3"}, "sk": {"S": "PROFILE"}}).get("Item")
            guard = dynamodb.get_item(TableName=users_table, Key={
                "pk": {"S": "EMAIL#student9@seed.eduplatform.dev"}, "sk": {"S": "EMAIL"}}
            ).get("Item")
        finally:
            reset_dynamo(cloud.aws_url, tpl.region, [users_table, enrollments_table])

    assert len(lessons) == 40
    assert any("14 users" in line for line in lines)
    assert any("40 courses with their syllabi" in line for line in lines)
    assert teacher is not None and teacher["role"] == {"S": "teacher"}
    assert guard == {"pk": {"S": "EMAIL#student9@seed.eduplatform.dev"}, "sk": {"S": "EMAIL"},
                     "user_id": {"S": "seed-student-9"}}
    assert len(enrolled) == 30 and students == (30,)
    assert all(int(e["total_lessons"]["N"]) == lessons[e["course_id"]["S"]] for e in enrolled)
    assert len({e["total_lessons"]["N"] for e in enrolled}) > 2  # courses of several sizes
