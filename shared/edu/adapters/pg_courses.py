"""Courses in PostgreSQL (psycopg 3): authoring with a transactional outbox, keyset catalog
pages, and search (full text + trigram typo tolerance, or the naive ILIKE baseline)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from psycopg import Connection
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from edu.courses.models import (
    CatalogQuery,
    Course,
    LessonOut,
    Money,
    SearchQuery,
    SectionOut,
    Status,
)
from edu.courses.ports import BadPosition, Hit, NotInCourse, StaleVersion
from edu.enrollment.models import CourseFacts
from edu.events import Envelope
from edu.video.models import LessonFacts

COLUMNS = ("id, teacher_id, title, subtitle, description, category, level, language, "
           "price_amount, price_currency, tags, status, version, created_at, updated_at, "
           "published_at")
_EDITABLE = {"title", "subtitle", "description", "category", "level", "language", "tags"}


def _course(row: dict[str, Any]) -> Course:
    return Course(
        id=str(row["id"]), teacher_id=row["teacher_id"], title=row["title"],
        subtitle=row["subtitle"], description=row["description"], category=row["category"],
        level=row["level"], language=row["language"],
        price=Money(amount=row["price_amount"], currency=row["price_currency"].strip()),
        tags=list(row["tags"]), status=row["status"], version=row["version"],
        created_at=row["created_at"], updated_at=row["updated_at"],
        published_at=row["published_at"])


def write_outbox(conn: Connection[Any], events: list[Envelope]) -> None:
    for event in events:
        conn.execute("INSERT INTO outbox (id, event_type, payload) VALUES (%s, %s, %s)",
                     (event.id, event.type, Jsonb(event.model_dump(mode="json"))))


class PgCourseRepository:
    def __init__(self, pool: ConnectionPool,
                 on_degraded: Callable[[str], None] | None = None) -> None:
        self.pool = pool
        self.on_degraded = on_degraded
        self._trigrams: bool | None = None

    def typo_tolerant(self) -> bool:
        """Whether the server has pg_trgm (checked once; the pgserver wheel lacks it)."""
        if self._trigrams is None:
            with self.pool.connection() as conn:
                self._trigrams = conn.execute(
                    "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm')"
                ).fetchone() == (True,)
            if not self._trigrams and self.on_degraded is not None:
                self.on_degraded("pg_trgm is not installed: search runs without typo "
                                 "tolerance")
        return self._trigrams

    # --- authoring ----------------------------------------------------------------------

    def create(self, course: Course) -> None:
        with self.pool.connection() as conn:
            conn.execute(
                f"INSERT INTO courses ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, "
                "%s, %s, %s, %s, %s, %s, %s)",
                (course.id, course.teacher_id, course.title, course.subtitle,
                 course.description, course.category, course.level, course.language,
                 course.price.amount, course.price.currency, course.tags, course.status,
                 course.version, course.created_at, course.updated_at, course.published_at))

    def get(self, course_id: str) -> Course | None:
        with self.pool.connection() as conn:
            row = conn.cursor(row_factory=dict_row).execute(
                f"SELECT {COLUMNS} FROM courses WHERE id = %s", (course_id,)).fetchone()
        return _course(row) if row else None

    def published(self, after_id: str | None, limit: int) -> list[Course]:
        with self.pool.connection() as conn:
            rows = conn.cursor(row_factory=dict_row).execute(
                f"SELECT {COLUMNS} FROM courses WHERE status = 'published' "
                "AND (%s::uuid IS NULL OR id > %s::uuid) ORDER BY id LIMIT %s",
                (after_id, after_id, limit)).fetchall()
        return [_course(row) for row in rows]

    def update(self, course_id: str, changes: dict[str, Any], expected_version: int | None,
               events: Callable[[Course], list[Envelope]]) -> Course:
        sets, params = ["version = version + 1", "updated_at = now()"], []
        for key, value in changes.items():
            if key == "price":
                money = value if isinstance(value, Money) else Money.model_validate(value)
                sets += ["price_amount = %s", "price_currency = %s"]
                params += [money.amount, money.currency]
            elif key in _EDITABLE:
                sets.append(f"{key} = %s")
                params.append(value)
        with self.pool.connection() as conn, conn.transaction():
            cur = conn.cursor(row_factory=dict_row)
            current = cur.execute("SELECT version FROM courses WHERE id = %s FOR UPDATE",
                                  (course_id,)).fetchone()
            if current is None:
                raise StaleVersion(0)
            if expected_version is not None and current["version"] != expected_version:
                raise StaleVersion(current["version"])
            row = cur.execute(f"UPDATE courses SET {', '.join(sets)} WHERE id = %s "
                              f"RETURNING {COLUMNS}", (*params, course_id)).fetchone()
            assert row is not None
            course = _course(row)
            write_outbox(conn, events(course))
        return course

    def set_status(self, course_id: str, status: Status, require_lessons: bool,
                   events: Callable[[Course], list[Envelope]]) -> Course | None:
        with self.pool.connection() as conn, conn.transaction():
            cur = conn.cursor(row_factory=dict_row)
            cur.execute("SELECT 1 FROM courses WHERE id = %s FOR UPDATE", (course_id,))
            if require_lessons:
                has = cur.execute("SELECT EXISTS (SELECT 1 FROM lessons WHERE course_id = %s) "
                                  "AS has", (course_id,)).fetchone()
                if not has or not has["has"]:
                    return None
            published_at = "now()" if status == "published" else "published_at"
            if status == "draft":
                published_at = "NULL"
            row = cur.execute(
                f"UPDATE courses SET status = %s, version = version + 1, updated_at = now(), "
                f"published_at = {published_at} WHERE id = %s RETURNING {COLUMNS}",
                (status, course_id)).fetchone()
            assert row is not None
            course = _course(row)
            write_outbox(conn, events(course))
        return course

    # --- syllabus -------------------------------------------------------------------------

    def add_section(self, course_id: str, section_id: str, title: str,
                    position: int | None) -> SectionOut:
        with self.pool.connection() as conn, conn.transaction():
            conn.execute("SELECT 1 FROM courses WHERE id = %s FOR UPDATE", (course_id,))
            count = conn.execute("SELECT count(*) FROM sections WHERE course_id = %s",
                                 (course_id,)).fetchone()
            n = int(count[0]) if count else 0
            pos = n if position is None else min(position, n)
            conn.execute("UPDATE sections SET position = position + 1 "
                         "WHERE course_id = %s AND position >= %s", (course_id, pos))
            conn.execute("INSERT INTO sections (id, course_id, title, position) "
                         "VALUES (%s, %s, %s, %s)", (section_id, course_id, title, pos))
        return SectionOut(id=section_id, title=title, position=pos)

    def add_lesson(self, course_id: str, section_id: str, lesson: LessonOut, body: str,
                   position: int | None) -> LessonOut:
        with self.pool.connection() as conn, conn.transaction():
            conn.execute("SELECT 1 FROM courses WHERE id = %s FOR UPDATE", (course_id,))
            owner = conn.execute("SELECT course_id FROM sections WHERE id = %s",
                                 (section_id,)).fetchone() if _is_uuid(section_id) else None
            if owner is None or str(owner[0]) != course_id:
                raise NotInCourse(section_id)
            count = conn.execute("SELECT count(*) FROM lessons WHERE section_id = %s",
                                 (section_id,)).fetchone()
            n = int(count[0]) if count else 0
            pos = n if position is None else min(position, n)
            conn.execute("UPDATE lessons SET position = position + 1 "
                         "WHERE section_id = %s AND position >= %s", (section_id, pos))
            conn.execute("INSERT INTO lessons (id, course_id, section_id, title, kind, body, "
                         "free_preview, position) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                         (lesson.id, course_id, section_id, lesson.title, lesson.kind, body,
                          lesson.free_preview, pos))
        return lesson.model_copy(update={"position": pos})

    def reorder_sections(self, course_id: str, ids: list[str]) -> None:
        with self.pool.connection() as conn, conn.transaction():
            conn.execute("SELECT 1 FROM courses WHERE id = %s FOR UPDATE", (course_id,))
            existing = {str(r[0]) for r in conn.execute(
                "SELECT id FROM sections WHERE course_id = %s", (course_id,))}
            _same_set(existing, ids, "section")
            for pos, sid in enumerate(ids):
                conn.execute("UPDATE sections SET position = %s WHERE id = %s", (pos, sid))

    def reorder_lessons(self, course_id: str, section_id: str, ids: list[str]) -> None:
        with self.pool.connection() as conn, conn.transaction():
            conn.execute("SELECT 1 FROM courses WHERE id = %s FOR UPDATE", (course_id,))
            if not _is_uuid(section_id):
                raise NotInCourse("no such section in the course")
            existing = {str(r[0]) for r in conn.execute(
                "SELECT id FROM lessons WHERE section_id = %s AND course_id = %s",
                (section_id, course_id))}
            if not existing:
                raise NotInCourse("no such section in the course, or it has no lessons")
            _same_set(existing, ids, "lesson")
            for pos, lid in enumerate(ids):
                conn.execute("UPDATE lessons SET position = %s WHERE id = %s", (pos, lid))

    def syllabus(self, course_id: str) -> list[SectionOut]:
        with self.pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            sections = {str(r["id"]): SectionOut(id=str(r["id"]), title=r["title"],
                                                 position=r["position"])
                        for r in cur.execute("SELECT id, title, position FROM sections "
                                             "WHERE course_id = %s ORDER BY position",
                                             (course_id,))}
            for r in cur.execute("SELECT id, section_id, title, kind, body, free_preview, "
                                 "position FROM lessons WHERE course_id = %s "
                                 "ORDER BY position", (course_id,)):
                sections[str(r["section_id"])].lessons.append(LessonOut(
                    id=str(r["id"]), section_id=str(r["section_id"]), title=r["title"],
                    kind=r["kind"], free_preview=r["free_preview"], position=r["position"],
                    body=r["body"] if r["kind"] == "text" else None))
        return list(sections.values())

    # --- catalog and search ------------------------------------------------------------------

    @staticmethod
    def _filters(query: CatalogQuery, include_drafts: bool) -> tuple[list[str], list[Any]]:
        where = ["status <> 'archived'" if include_drafts else "status = 'published'"]
        params: list[Any] = []
        for column in ("category", "level", "language", "teacher_id"):
            value = getattr(query, column)
            if value is not None:
                where.append(f"{column} = %s")
                params.append(value)
        if query.price == "free":
            where.append("price_amount = 0")
        elif query.price == "paid":
            where.append("price_amount > 0")
        return where, params

    def catalog(self, query: CatalogQuery, after: list[Any] | None, limit: int,
                include_drafts: bool = False) -> list[Course]:
        where, params = self._filters(query, include_drafts)
        stamp = "created_at" if include_drafts else "published_at"
        key, direction, op = {
            "newest": (f"{stamp}", "DESC", "<"),
            "title": ("lower(title)", "ASC", ">"),
            "price": ("price_amount", "ASC", ">"),
        }[query.sort]
        if after is not None:
            if len(after) != 2:
                raise BadPosition(after)
            where.append(f"({key}, id) {op} (%s, %s::uuid)")
            params += after
        sql = (f"SELECT {COLUMNS} FROM courses WHERE {' AND '.join(where)} "
               f"ORDER BY {key} {direction}, id {direction} LIMIT %s")
        with self.pool.connection() as conn:
            rows = conn.cursor(row_factory=dict_row).execute(sql, (*params, limit)).fetchall()
        return [_course(r) for r in rows]

    # Search runs a cascade, cheapest and most precise first; the first page decides the
    # mode and the cursor carries it, so later pages continue the same result list:
    #   all   - full text, every word (ts_rank: title weight A > subtitle/tags B > body C)
    #   any   - full text, any word (when no course has them all)
    #   fuzzy - misspelt words replaced by the closest words published courses use
    #           ("pythn" -> python), then full text with any of the words
    _MODES = {
        "all": ("search_doc @@ websearch_to_tsquery('simple', %(q)s)",
                "ts_rank(search_doc, websearch_to_tsquery('simple', %(q)s))"),
        "any": ("search_doc @@ edu_any_terms(%(q)s)",
                "ts_rank(search_doc, edu_any_terms(%(q)s))"),
        "fuzzy": ("", ""),  # built per query from its words, see _search
        # The ILIKE baseline of the search benchmark (loadtests/bench/catalog_bench.py).
        "naive": ("(title ILIKE %(like)s OR description ILIKE %(like)s)",
                  "extract(epoch FROM published_at)"),
    }

    def search(self, query: SearchQuery, after: list[Any] | None, limit: int,
               ranked: bool) -> list[Hit]:
        if after is not None:
            if len(after) != 3 or after[0] not in self._MODES:
                raise BadPosition(after)
            return self._search(str(after[0]), query, after[1:], limit)
        modes: tuple[str, ...] = ("all", "any", "fuzzy") if ranked else ("naive",)
        if ranked and not self.typo_tolerant():
            modes = ("all", "any")
        for mode in modes:
            hits = self._search(mode, query, None, limit)
            if hits:
                return hits
        return []

    def _correct(self, text: str) -> str | None:
        """The query with each unknown word (4+ letters) replaced by the most similar word of
        published courses; None when nothing could be corrected."""
        words = _query_words(text)
        changed = False
        with self.pool.connection() as conn:
            known = {r[0] for r in conn.execute(
                "SELECT word FROM search_words WHERE word = ANY(%s)", (words,))}
            out = []
            for word in words:
                if word in known or len(word) < 4:
                    out.append(word)
                    continue
                best = conn.execute(
                    "SELECT word FROM search_words WHERE word %% %s "
                    "ORDER BY similarity(word, %s) DESC, word LIMIT 1", (word, word)).fetchone()
                if best is not None:
                    out.append(best[0])
                    changed = True
        return " ".join(out) if changed else None

    def _search(self, mode: str, query: SearchQuery, after: list[Any] | None,
                limit: int) -> list[Hit]:
        where, params = self._filters(query, include_drafts=False)
        named: dict[str, Any] = {"q": query.q, "like": f"%{_escape_like(query.q)}%",
                                 "limit": limit, "mode": mode}
        clauses = []
        index = 0
        for clause in where:
            while "%s" in clause:
                clause = clause.replace("%s", f"%(p{index})s", 1)
                named[f"p{index}"] = params[index]
                index += 1
            clauses.append(clause)
        match, score = self._MODES[mode]
        if mode == "fuzzy":
            corrected = self._correct(query.q)
            if corrected is None:
                return []
            named["q"] = corrected
            match, score = self._MODES["any"]
        keyset = ""
        if after is not None:
            keyset = "WHERE (s.score, s.id) < (%(after_score)s, %(after_id)s::uuid)"
            try:
                named["after_score"], named["after_id"] = float(after[0]), str(after[1])
            except (TypeError, ValueError):
                raise BadPosition(after) from None
        tsq = ("websearch_to_tsquery('simple', %(q)s)" if mode == "all"
               else "edu_any_terms(%(q)s)")
        # Highlights are computed for the page's rows only, after the limit.
        highlight = "title" if mode == "naive" else (
            f"ts_headline('simple', title || ' - ' || subtitle, {tsq}, "
            "'StartSel=<mark>, StopSel=</mark>, HighlightAll=true')")
        sql = (f"SELECT *, {highlight} AS highlight FROM ("
               f"SELECT * FROM (SELECT {COLUMNS}, ({score})::float8 AS score FROM courses "
               f"WHERE {' AND '.join(clauses)} AND {match}) s {keyset} "
               "ORDER BY s.score DESC, s.id DESC LIMIT %(limit)s) page "
               "ORDER BY score DESC, id DESC")
        with self.pool.connection() as conn:
            rows = conn.cursor(row_factory=dict_row).execute(sql, named).fetchall()
        return [Hit(_course(r), float(r["score"]), r["highlight"], mode) for r in rows]


def _same_set(existing: set[str], ids: list[str], what: str) -> None:
    if len(ids) != len(set(ids)) or set(ids) != existing:
        raise NotInCourse(f"list every {what} of the course exactly once "
                          f"({len(existing)} {what}s)")


def _query_words(text: str) -> list[str]:
    """The query's distinct words, lower case (at most 8)."""
    import re

    return list(dict.fromkeys(w.lower() for w in re.findall(r"\w+", text)))[:8]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _is_uuid(value: str) -> bool:
    from edu.ids import is_uuid

    return is_uuid(value)


class PgCourseFacts:
    """Implements enrollment's Courses port from the courses tables."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def facts(self, course_id: str) -> CourseFacts | None:
        if not _is_uuid(course_id):
            return None
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT title, teacher_id, status, price_amount, price_currency, "
                "ARRAY(SELECT id::text FROM lessons WHERE course_id = c.id) "
                "FROM courses c WHERE id = %s", (course_id,)).fetchone()
        if row is None:
            return None
        title, teacher_id, status, amount, currency, lessons = row
        return CourseFacts(id=course_id, title=title, teacher_id=teacher_id, status=status,
                           price=Money(amount=amount, currency=currency.strip()),
                           lesson_ids=frozenset(lessons))


class PgLessonFacts:
    """Implements the video context's Lessons port from the courses tables."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def lesson(self, course_id: str, lesson_id: str) -> LessonFacts | None:
        if not (_is_uuid(course_id) and _is_uuid(lesson_id)):
            return None
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT c.teacher_id, c.status, l.kind, l.free_preview FROM lessons l "
                "JOIN courses c ON c.id = l.course_id WHERE l.id = %s AND l.course_id = %s",
                (lesson_id, course_id)).fetchone()
        if row is None:
            return None
        teacher_id, status, kind, free_preview = row
        return LessonFacts(course_id=course_id, lesson_id=lesson_id, teacher_id=teacher_id,
                           course_status=status, kind=kind, free_preview=bool(free_preview))
