"""Load-test data at scale, generated inside PostgreSQL (100K courses in seconds).

Deterministic for a given count: course i always gets the same title, category, price and
teacher, so benchmarks are repeatable. Seeded teachers are ids `seed-teacher-<n>`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

TOPICS = {
    "programming": ["Python", "Rust", "Go", "TypeScript", "Kotlin", "Haskell", "SQL",
                    "JavaScript", "Java", "C++", "Elixir", "Swift"],
    "devops": ["Kubernetes", "Docker", "Terraform", "Ansible", "Linux", "Prometheus",
               "Serverless", "Networking"],
    "data": ["Pandas", "Statistics", "Machine Learning", "Deep Learning", "Data Engineering",
             "Spark", "Visualization", "PostgreSQL"],
    "design": ["Figma", "Typography", "Color Theory", "UX Research", "Illustration"],
    "art": ["Watercolor", "Oil Painting", "Sketching", "Photography", "Calligraphy"],
    "business": ["Marketing", "Negotiation", "Accounting", "Product Management",
                 "Public Speaking"],
    "music": ["Guitar", "Piano", "Music Theory", "Songwriting", "Mixing"],
    "languages": ["Spanish", "Japanese", "German", "French", "Mandarin"],
}
ADJECTIVES = ["Practical", "Complete", "Modern", "Hands-on", "Advanced", "Essential",
              "Applied", "Beginner's", "Professional", "Intensive", "Visual", "Effective"]
SUFFIXES = ["Bootcamp", "Fundamentals", "Masterclass", "in Practice", "from Scratch",
            "Deep Dive", "Crash Course", "Patterns", "for Teams", "Workshop"]
LEVELS = ["beginner", "intermediate", "advanced"]
LANGUAGES = ["en", "en", "en", "es", "de", "fr", "ja", "pt"]
PRICES = [0, 0, 999, 1499, 1999, 2999, 4999, 9999]
SECTION_TITLES = ["Getting started", "Core ideas", "Hands-on", "Going further",
                  "Project", "Wrap-up"]
SECTIONS = (1, 4)  # sections per seeded course, lowest and highest
LESSONS = (2, 6)  # lessons per seeded section, lowest and highest
WORDS = ("learn build ship test debug deploy measure design explain practice project "
         "exercise real world step by quick deep solid clean fast reliable scalable secure "
         "production team career skill tool workflow habit").split()


def _array(values: list[str]) -> str:
    return "ARRAY[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def seed_courses(database_url: str, count: int, *, teachers: int = 5000,
                 published_share: float = 0.9) -> float:
    """Inserts `count` courses (most published), each with 1-4 sections of 2-6 lessons
    (mostly video, every fourth a text lesson, the first one a free preview); returns the
    seconds it took. Existing seed rows (teacher ids seed-teacher-*) are replaced."""
    import psycopg

    topics = [(cat, t) for cat, names in TOPICS.items() for t in names]
    started = time.perf_counter()
    with psycopg.connect(database_url, autocommit=False) as conn:
        conn.execute("DELETE FROM courses WHERE teacher_id LIKE 'seed-teacher-%'")
        # course i's id, and (below) its sections', kept by number so the syllabus of
        # course i is shaped the same on every run
        conn.execute(f"""
            CREATE TEMP TABLE seed_course_ids ON COMMIT DROP AS
            SELECT i, gen_random_uuid() AS id FROM generate_series(1, {int(count)}) AS i""")
        conn.execute(f"""
            INSERT INTO courses (id, teacher_id, title, subtitle, description, category, level,
                                 language, price_amount, price_currency, tags, status, version,
                                 created_at, updated_at, published_at)
            SELECT ids.id,
                   'seed-teacher-' || (i % {teachers}),
                   adj[1 + (i * 7) % array_length(adj, 1)] || ' ' ||
                       topic[1 + i % array_length(topic, 1)] || ' ' ||
                       suffix[1 + (i * 3) % array_length(suffix, 1)],
                   'Course ' || i || ': ' || words[1 + (i * 5) % array_length(words, 1)] ||
                       ' and ' || words[1 + (i * 11) % array_length(words, 1)],
                   'In this course you ' || words[1 + i % array_length(words, 1)] || ' ' ||
                       lower(topic[1 + i % array_length(topic, 1)]) || ' with ' ||
                       words[1 + (i * 17) % array_length(words, 1)] || ' ' ||
                       words[1 + (i * 19) % array_length(words, 1)] || ' lessons and a ' ||
                       words[1 + (i * 23) % array_length(words, 1)] || ' project.',
                   cat[1 + i % array_length(cat, 1)],
                   lvl[1 + (i * 13) % 3],
                   lang[1 + (i * 29) % array_length(lang, 1)],
                   price[1 + (i * 31) % array_length(price, 1)], 'usd',
                   ARRAY[lower(topic[1 + i % array_length(topic, 1)]),
                         cat[1 + i % array_length(cat, 1)]],
                   CASE WHEN (i % 1000) < {int(published_share * 1000)} THEN 'published'
                        ELSE 'draft' END,
                   1,
                   now() - make_interval(mins => i),
                   now() - make_interval(mins => i),
                   CASE WHEN (i % 1000) < {int(published_share * 1000)}
                        THEN now() - make_interval(mins => i) END
            FROM seed_course_ids AS ids,
                 (SELECT {_array(ADJECTIVES)} AS adj,
                         {_array([t for _, t in topics])} AS topic,
                         {_array([c for c, _ in topics])} AS cat,
                         {_array(SUFFIXES)} AS suffix, {_array(LEVELS)} AS lvl,
                         {_array(LANGUAGES)} AS lang,
                         ARRAY[{",".join(str(p) for p in PRICES)}] AS price,
                         {_array(WORDS)} AS words) AS w
        """)
        conn.execute(f"""
            CREATE TEMP TABLE seed_section_ids ON COMMIT DROP AS
            SELECT ids.i, ids.id AS course_id, s AS position, gen_random_uuid() AS id
            FROM seed_course_ids AS ids,
                 generate_series(0, {SECTIONS[0] - 1}
                                    + (ids.i * 7) % {SECTIONS[1] - SECTIONS[0] + 1}) AS s""")
        conn.execute(f"""
            INSERT INTO sections (id, course_id, title, position)
            SELECT id, course_id, titles[1 + (position + i) % array_length(titles, 1)],
                   position
            FROM seed_section_ids, (SELECT {_array(SECTION_TITLES)} AS titles) AS w""")
        conn.execute(f"""
            INSERT INTO lessons (id, course_id, section_id, title, kind, body, free_preview,
                                 position)
            SELECT gen_random_uuid(), s.course_id, s.id,
                   initcap(words[1 + (s.i + 3 * s.position + 7 * l) % array_length(words, 1)])
                       || ' ' || words[1 + (s.i * 5 + l) % array_length(words, 1)] || ', part '
                       || (l + 1),
                   CASE WHEN (s.i + s.position + l) % 4 = 0 THEN 'text' ELSE 'video' END,
                   CASE WHEN (s.i + s.position + l) % 4 = 0
                        THEN 'Notes: ' || words[1 + (s.i + l) % array_length(words, 1)] || ' '
                             || words[1 + (s.i * 3 + l) % array_length(words, 1)] || '.'
                        ELSE '' END,
                   s.position = 0 AND l = 0,
                   l
            FROM seed_section_ids AS s,
                 generate_series(0, {LESSONS[0] - 1}
                                    + (s.i * 3 + s.position) % {LESSONS[1] - LESSONS[0] + 1}
                                 ) AS l,
                 (SELECT {_array(WORDS)} AS words) AS w""")
        conn.commit()
        conn.autocommit = True
        conn.execute("ANALYZE courses")
        conn.execute("ANALYZE sections")
        conn.execute("ANALYZE lessons")
    return time.perf_counter() - started


SEED_PASSWORD = "seed-password-2026"  # every seeded user's password (documented in README)


def seed_users(endpoint: str, region: str, table: str, students: int, teachers: int,
               password_hash: str, *, workers: int = 4,
               progress: Callable[[int], object] = lambda _n: None) -> float:
    """Seeded accounts in DynamoDB: `student<i>@seed.eduplatform.dev` (ids seed-student-<i>)
    and verified `teacher<i>@seed.eduplatform.dev` (ids seed-teacher-<i>, who own the seeded
    courses). All share one precomputed argon2id hash, so seeding spends no time hashing."""
    from datetime import UTC, datetime

    started = time.perf_counter()
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")

    def items(kind: str, count: int) -> list[dict[str, Any]]:
        out = []
        for i in range(count):
            uid, email = f"seed-{kind}-{i}", f"{kind}{i}@seed.eduplatform.dev"
            teacher = kind == "teacher"
            out.append({"pk": {"S": f"USER#{uid}"}, "sk": {"S": "PROFILE"}, "id": {"S": uid},
                        "email": {"S": email}, "full_name": {"S": f"Seed {kind.title()} {i}"},
                        "role": {"S": kind}, "password_hash": {"S": password_hash},
                        "created_at": {"S": now}, "is_verified": {"BOOL": teacher},
                        "verification_status": {"S": "verified" if teacher else "none"},
                        "marketing_opt_out": {"BOOL": False}})
            out.append({"pk": {"S": f"EMAIL#{email}"}, "sk": {"S": "EMAIL"},
                        "user_id": {"S": uid}})
        return out

    everything = items("student", students) + items("teacher", teachers)
    batch_write(endpoint, region, table, everything, workers,
                lambda n: progress(n // 2))  # two items per user
    return time.perf_counter() - started


def batch_write(endpoint: str, region: str, table: str, items: list[dict[str, Any]],
                workers: int, progress: Callable[[int], object]) -> None:
    """BatchWriteItem in chunks of 25 from a few threads, retrying unprocessed items."""
    from concurrent.futures import ThreadPoolExecutor

    from localcloud.aws import local_client

    chunks = [items[i:i + 25] for i in range(0, len(items), 25)]

    def write(chunk: list[dict[str, Any]]) -> None:
        client = local_client("dynamodb", endpoint, region)
        pending = [{"PutRequest": {"Item": item}} for item in chunk]
        while pending:
            resp = client.batch_write_item(RequestItems={table: pending})
            pending = resp.get("UnprocessedItems", {}).get(table, [])
        progress(len(chunk))

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(write, chunks))


def seed_enrollments(database_url: str, endpoint: str, region: str, table: str,
                     count: int, students: int, *, seed: int = 42, workers: int = 4,
                     progress: Callable[[int], object] = lambda _n: None
                     ) -> tuple[float, list[tuple[str, str]]]:
    """`count` active enrollments of seeded students (seed-student-<i>) in published seeded
    courses, spread evenly (about count/students each, no pair twice), in DynamoDB. The
    same seed and counts give the same pairs (courses by their seeded order). Returns the
    seconds it took and the (student, course) pairs."""
    import random
    from datetime import UTC, datetime

    import psycopg

    started = time.perf_counter()
    with psycopg.connect(database_url) as conn:
        courses = conn.execute(
            "SELECT c.id::text, c.title, count(l.id) FROM courses c "
            "LEFT JOIN lessons l ON l.course_id = c.id "
            "WHERE c.teacher_id LIKE 'seed-teacher-%' AND c.status = 'published' "
            "GROUP BY c.id ORDER BY c.created_at DESC, c.title").fetchall()
    if not courses or not students:
        return 0.0, []
    rng = random.Random(seed)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")
    per_student, extra = divmod(count, students)
    items: list[dict[str, Any]] = []
    pairs: list[tuple[str, str]] = []
    for student in range(students):
        want = min(len(courses), per_student + (1 if student < extra else 0))
        for index in rng.sample(range(len(courses)), want) if want else []:
            course_id, title, lessons = courses[index]
            pairs.append((f"seed-student-{student}", course_id))
            items.append({
                "pk": {"S": f"USER#seed-student-{student}"}, "sk": {"S": f"ENROLL#{course_id}"},
                "id": {"S": f"seed-enrollment-{student}-{index}"},
                "course_id": {"S": course_id}, "course_title": {"S": title},
                "status": {"S": "active"}, "source": {"S": "free"}, "created_at": {"S": now},
                "completed_lessons": {"N": "0"}, "total_lessons": {"N": str(lessons)}})
    batch_write(endpoint, region, table, items, workers, progress)
    return time.perf_counter() - started, pairs


def seed_analytics(database_url: str, pairs: list[tuple[str, str]]) -> float:
    """The teacher analytics read models of the seeded enrollments, as the projector would
    have built them from their events: enrollments spread over the last 90 days, every
    fifth one completed, paid courses' price as revenue (the seeded DynamoDB enrollments
    themselves carry no payments). Replaces earlier seeded analytics."""
    import psycopg

    started = time.perf_counter()
    seeded = "teacher_id LIKE 'seed-teacher-%'"
    with psycopg.connect(database_url) as conn, conn.transaction():
        conn.execute("SET LOCAL TimeZone = 'UTC'")
        for table in ("analytics_students", "analytics_course_daily",
                      "analytics_revenue_daily"):
            conn.execute(f"DELETE FROM {table} WHERE {seeded}")
        conn.execute("DELETE FROM analytics_lesson_completions l USING courses c "
                     f"WHERE c.id = l.course_id AND c.{seeded}")
        conn.execute("CREATE TEMP TABLE seed_pairs (user_id text, course_id uuid, n int) "
                     "ON COMMIT DROP")
        with conn.cursor().copy("COPY seed_pairs (user_id, course_id, n) FROM STDIN") as copy:
            for n, (user_id, course_id) in enumerate(pairs):
                copy.write_row((user_id, course_id, n))
        conn.execute(
            "INSERT INTO analytics_students (course_id, user_id, teacher_id, enrolled_at, "
            "completed_at, last_active_at) "
            "SELECT p.course_id, p.user_id, c.teacher_id, "
            "       now() - make_interval(days => p.n % 90, secs => p.n % 86400), "
            "       CASE WHEN p.n % 5 = 0 THEN now() - make_interval(days => (p.n % 90) / 2) "
            "       END, now() - make_interval(days => (p.n % 90) / 2) "
            "FROM seed_pairs p JOIN courses c ON c.id = p.course_id")
        conn.execute(
            "INSERT INTO analytics_course_daily (course_id, day, teacher_id, enrollments, "
            "completions) SELECT course_id, day, teacher_id, sum(e), sum(d) FROM ("
            f"  SELECT course_id, enrolled_at::date AS day, teacher_id, 1 AS e, 0 AS d "
            f"  FROM analytics_students WHERE {seeded} UNION ALL "
            f"  SELECT course_id, completed_at::date, teacher_id, 0, 1 FROM analytics_students "
            f"  WHERE completed_at IS NOT NULL AND {seeded}) x GROUP BY 1, 2, 3")
        conn.execute(
            "INSERT INTO analytics_revenue_daily (course_id, day, currency, teacher_id, gross) "
            "SELECT s.course_id, s.enrolled_at::date, c.price_currency, s.teacher_id, "
            "       sum(c.price_amount) FROM analytics_students s "
            f"JOIN courses c ON c.id = s.course_id WHERE c.price_amount > 0 AND s.{seeded} "
            "GROUP BY 1, 2, 3, 4")
        conn.execute(  # completed students completed every lesson
            "INSERT INTO analytics_lesson_completions (course_id, lesson_id, user_id, "
            "completed_at) SELECT s.course_id, l.id, s.user_id, s.completed_at "
            "FROM analytics_students s JOIN lessons l ON l.course_id = s.course_id "
            f"WHERE s.completed_at IS NOT NULL AND s.{seeded}")
    return time.perf_counter() - started


def reset_dynamo(endpoint: str, region: str, tables: list[str]) -> int:
    """Deletes every seeded item (users, their email guards, their enrollments)."""
    from localcloud.aws import local_client

    client = local_client("dynamodb", endpoint, region)
    removed = 0
    for table in tables:
        pages = client.get_paginator("scan").paginate(
            TableName=table, ProjectionExpression="pk, sk",
            FilterExpression="begins_with(pk, :user) OR (begins_with(pk, :email) AND "
                             "contains(pk, :domain))",
            ExpressionAttributeValues={":user": {"S": "USER#seed-"},
                                       ":email": {"S": "EMAIL#"},
                                       ":domain": {"S": "@seed.eduplatform.dev"}})
        keys = [item for page in pages for item in page.get("Items", [])]
        for start in range(0, len(keys), 25):
            client.batch_write_item(RequestItems={table: [
                {"DeleteRequest": {"Key": key}} for key in keys[start:start + 25]]})
        removed += len(keys)
    return removed
