"""Webhooks and their delivery log in PostgreSQL (edu/migrations/0006_webhooks.sql)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from edu.adapters.pg_courses import write_outbox
from edu.events import Envelope
from edu.ids import uuid7
from edu.webhooks.models import Attempt, Delivery, Webhook

_HOOK = ("id::text, teacher_id, url, events, signing_secret, status, disabled_reason, "
         "consecutive_failures, created_at")
_DELIVERY = ("id::text, webhook_id::text, event_id, event_type, payload, manual, status, "
             "attempts, next_attempt_at, last_status, last_error, created_at, updated_at")


class PgWebhookStore:
    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    # --- webhooks -------------------------------------------------------------------------

    def create(self, webhook: Webhook) -> None:
        with self.pool.connection() as conn:
            conn.execute(
                "INSERT INTO webhooks (id, teacher_id, url, events, signing_secret, status, "
                "created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (webhook.id, webhook.teacher_id, webhook.url, webhook.events,
                 webhook.signing_secret, webhook.status, webhook.created_at,
                 webhook.created_at))

    def get(self, webhook_id: str) -> Webhook | None:
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(f"SELECT {_HOOK} FROM webhooks WHERE id = %s",
                              (webhook_id,)).fetchone()
        return Webhook(**row) if row else None

    def list_for(self, teacher_id: str) -> list[Webhook]:
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(f"SELECT {_HOOK} FROM webhooks WHERE teacher_id = %s "
                               "ORDER BY created_at DESC, id", (teacher_id,)).fetchall()
        return [Webhook(**r) for r in rows]

    def delete(self, webhook_id: str) -> None:
        with self.pool.connection() as conn:
            conn.execute("DELETE FROM webhooks WHERE id = %s", (webhook_id,))

    def set_status(self, webhook_id: str, status: str, reason: str | None) -> None:
        with self.pool.connection() as conn:
            conn.execute("UPDATE webhooks SET status = %s, disabled_reason = %s, "
                         "consecutive_failures = 0, updated_at = now() WHERE id = %s",
                         (status, reason, webhook_id))

    def subscribed(self, teacher_id: str, event_type: str) -> list[Webhook]:
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(f"SELECT {_HOOK} FROM webhooks WHERE teacher_id = %s "
                               "AND status = 'active' AND %s = ANY(events)",
                               (teacher_id, event_type)).fetchall()
        return [Webhook(**r) for r in rows]

    # --- deliveries -----------------------------------------------------------------------

    def add_deliveries(self, webhooks: Sequence[Webhook], envelope: dict[str, Any]
                       ) -> list[str]:
        event_id, event_type = str(envelope["id"]), str(envelope["type"])
        with self.pool.connection() as conn:
            for hook in webhooks:
                conn.execute(
                    "INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, "
                    "payload) VALUES (%s, %s, %s, %s, %s) "
                    "ON CONFLICT (webhook_id, event_id) WHERE NOT manual DO NOTHING",
                    (uuid7(), hook.id, event_id, event_type, Jsonb(envelope)))
            rows = conn.execute(
                "SELECT id::text FROM webhook_deliveries WHERE event_id = %s AND NOT manual "
                "AND status = 'pending' AND attempts = 0 AND webhook_id = ANY(%s::uuid[])",
                (event_id, [h.id for h in webhooks])).fetchall()
        return [r[0] for r in rows]

    def add_manual(self, delivery: Delivery) -> str:
        with self.pool.connection() as conn:
            conn.execute(
                "INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, "
                "payload, manual, created_at, updated_at) "
                "VALUES (%s, %s, %s, %s, %s, true, %s, %s)",
                (delivery.id, delivery.webhook_id, delivery.event_id, delivery.event_type,
                 Jsonb(delivery.payload), delivery.created_at, delivery.updated_at))
        return delivery.id

    def delivery(self, delivery_id: str) -> Delivery | None:
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(f"SELECT {_DELIVERY} FROM webhook_deliveries WHERE id = %s",
                              (delivery_id,)).fetchone()
        return Delivery(**row) if row else None

    def deliveries(self, webhook_id: str, after: tuple[datetime, str] | None, limit: int
                   ) -> list[Delivery]:
        where, args = "webhook_id = %s", [webhook_id]
        if after is not None:
            where += " AND (created_at, id) < (%s, %s::uuid)"
            args += [after[0], after[1]]  # type: ignore[list-item]
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(f"SELECT {_DELIVERY} FROM webhook_deliveries WHERE {where} "
                               "ORDER BY created_at DESC, id DESC LIMIT %s",
                               [*args, limit]).fetchall()
        return [Delivery(**r) for r in rows]

    def record(self, delivery: Delivery, attempt: Attempt, status: str,
               next_attempt_at: datetime | None, disable_after: int,
               disabled_events: Sequence[Envelope]) -> bool:
        with self.pool.connection() as conn, conn.transaction():
            fresh = conn.execute(
                "INSERT INTO webhook_attempts (delivery_id, attempt, status_code, error, "
                "duration_ms) VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING 1",
                (delivery.id, delivery.attempts, attempt.status_code, attempt.error,
                 attempt.duration_ms)).fetchone()
            if fresh is None:
                return False  # a duplicate message already recorded this attempt
            conn.execute(
                "UPDATE webhook_deliveries SET status = %s, attempts = %s, "
                "next_attempt_at = %s, last_status = %s, last_error = %s, updated_at = now() "
                "WHERE id = %s", (status, delivery.attempts, next_attempt_at,
                                  attempt.status_code, attempt.error, delivery.id))
            if attempt.accepted:
                conn.execute("UPDATE webhooks SET consecutive_failures = 0 WHERE id = %s",
                             (delivery.webhook_id,))
                return False
            row = conn.execute(
                "UPDATE webhooks SET consecutive_failures = consecutive_failures + 1 "
                "WHERE id = %s RETURNING consecutive_failures, status",
                (delivery.webhook_id,)).fetchone()
            if row is None or row[1] != "active" or row[0] < disable_after:
                return False
            conn.execute(
                "UPDATE webhooks SET status = 'disabled', disabled_reason = %s, "
                "updated_at = now() WHERE id = %s",
                (disabled_events[0].data["reason"] if disabled_events else "failing",
                 delivery.webhook_id))
            write_outbox(conn, list(disabled_events))
        return True
