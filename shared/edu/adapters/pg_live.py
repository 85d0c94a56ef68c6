"""Live sessions in PostgreSQL, beside the courses they belong to (`live_sessions`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from edu.adapters.pg_courses import write_outbox
from edu.events import Envelope
from edu.live.models import OPEN, LiveSession
from edu.live.ports import CourseInfo

COLUMNS = "id, course_id, teacher_id, title, starts_at, status, created_at, updated_at"


def _session(row: dict[str, Any]) -> LiveSession:
    return LiveSession(**{**row, "id": str(row["id"]), "course_id": str(row["course_id"])})


class PgLiveSessionStore:
    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def course(self, course_id: str) -> CourseInfo | None:
        with self.pool.connection() as conn:
            row = conn.execute("SELECT id, title, teacher_id, status FROM courses WHERE id = %s",
                               (course_id,)).fetchone()
        return CourseInfo(str(row[0]), row[1], row[2], row[3]) if row else None

    def create(self, session: LiveSession, events: Sequence[Envelope] = ()) -> None:
        with self.pool.connection() as conn, conn.transaction():
            conn.execute(
                f"INSERT INTO live_sessions ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (session.id, session.course_id, session.teacher_id, session.title,
                 session.starts_at, session.status, session.created_at, session.updated_at))
            write_outbox(conn, list(events))

    def get(self, session_id: str) -> LiveSession | None:
        with self.pool.connection() as conn:
            row = conn.cursor(row_factory=dict_row).execute(
                f"SELECT {COLUMNS} FROM live_sessions WHERE id = %s", (session_id,)).fetchone()
        return _session(row) if row else None

    def for_course(self, course_id: str, include_past: bool) -> list[LiveSession]:
        shown = "" if include_past else "AND status = ANY(%s)"
        params = (course_id,) if include_past else (course_id, list(OPEN))
        with self.pool.connection() as conn:
            rows = conn.cursor(row_factory=dict_row).execute(
                f"SELECT {COLUMNS} FROM live_sessions WHERE course_id = %s {shown} "
                "ORDER BY starts_at, id LIMIT 500", params).fetchall()
        return [_session(row) for row in rows]

    def upcoming(self, course_ids: Sequence[str]) -> list[LiveSession]:
        if not course_ids:
            return []
        with self.pool.connection() as conn:
            rows = conn.cursor(row_factory=dict_row).execute(
                f"SELECT {COLUMNS} FROM live_sessions WHERE course_id = ANY(%s::uuid[]) "
                "AND status = ANY(%s) ORDER BY starts_at, id LIMIT 100",
                (list(course_ids), list(OPEN))).fetchall()
        return [_session(row) for row in rows]

    def move(self, session_id: str, from_status: str, to_status: str,
             events: Callable[[LiveSession], Sequence[Envelope]]) -> LiveSession | None:
        with self.pool.connection() as conn, conn.transaction():
            row = conn.cursor(row_factory=dict_row).execute(
                f"UPDATE live_sessions SET status = %s, updated_at = now() "
                f"WHERE id = %s AND status = %s RETURNING {COLUMNS}",
                (to_status, session_id, from_status)).fetchone()
            if row is None:
                return None
            moved = _session(row)
            write_outbox(conn, list(events(moved)))
        return moved

