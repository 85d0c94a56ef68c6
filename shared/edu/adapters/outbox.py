"""Relays committed outbox rows to the event bus: at least once, in commit order per batch.

Rows are claimed with FOR UPDATE SKIP LOCKED, so several relays (the per-request flush and
the scheduled sweep) never publish the same row concurrently; consumers dedupe on event id.
"""

from __future__ import annotations

from typing import Any

from psycopg_pool import ConnectionPool

from edu.events import Envelope, EventPublisher


class OutboxRelay:
    def __init__(self, pool: ConnectionPool, publisher: EventPublisher) -> None:
        self.pool = pool
        self.publisher = publisher

    def relay(self, limit: int = 100) -> int:
        """Publishes up to `limit` pending events; returns how many. A failed publish is
        counted on the rows (they stay pending) and re-raised."""
        failure: Exception | None = None
        with self.pool.connection() as conn, conn.transaction():
            rows: list[Any] = conn.execute(
                "SELECT id, payload FROM outbox WHERE published_at IS NULL "
                "ORDER BY occurred_at LIMIT %s FOR UPDATE SKIP LOCKED", (limit,)).fetchall()
            if not rows:
                return 0
            ids = [r[0] for r in rows]
            try:
                self.publisher.publish([Envelope.model_validate(p) for _id, p in rows])
            except Exception as exc:
                failure = exc
                conn.execute("UPDATE outbox SET attempts = attempts + 1 WHERE id = ANY(%s)",
                             (ids,))
            else:
                conn.execute("UPDATE outbox SET published_at = now(), attempts = attempts + 1 "
                             "WHERE id = ANY(%s)", (ids,))
        if failure is not None:
            raise failure
        return len(rows)
