"""The webhook store against real PostgreSQL: a redelivered event adds no delivery, and an
attempt is recorded once however many messages carry it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from psycopg_pool import ConnectionPool

from edu.adapters.pg_webhooks import PgWebhookStore
from edu.webhooks.models import Attempt, Webhook


def test_fan_out_and_attempts_are_idempotent(pool: ConnectionPool) -> None:
    store = PgWebhookStore(pool)
    hook = Webhook(id=str(uuid.uuid4()), teacher_id=f"t-{uuid.uuid4().hex[:8]}",
                   url="http://127.0.0.1:9/hook", events=["enrollment.created"],
                   signing_secret="whsec_x", status="active", created_at=datetime.now(UTC))
    store.create(hook)
    envelope = {"id": str(uuid.uuid4()), "type": "enrollment.created", "data": {}}
    first = store.add_deliveries([hook], envelope)
    again = store.add_deliveries([hook], envelope)  # the same event, redelivered
    assert len(first) == 1 and again == first
    assert [d.id for d in store.deliveries(hook.id, None, 10)] == first
    delivery = store.delivery(first[0])
    assert delivery is not None
    attempt = Attempt(status_code=500, error=None, duration_ms=3)
    tried = delivery.model_copy(update={"attempts": 1})
    store.record(tried, attempt, "pending", None, 3, [])
    store.record(tried, attempt, "pending", None, 3, [])  # a duplicated message
    assert store.get(hook.id).consecutive_failures == 1  # type: ignore[union-attr]
    assert store.add_deliveries([hook], envelope) == []  # attempted: not queued again
