"""What webhooks need: storage, an HTTP sender and a delivery queue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from edu.events import Envelope
from edu.webhooks.models import Attempt, Delivery, Webhook


class WebhookStore(Protocol):
    def create(self, webhook: Webhook) -> None: ...

    def get(self, webhook_id: str) -> Webhook | None: ...

    def list_for(self, teacher_id: str) -> list[Webhook]: ...

    def delete(self, webhook_id: str) -> None: ...

    def set_status(self, webhook_id: str, status: str, reason: str | None) -> None:
        """Also resets the failure count."""

    def subscribed(self, teacher_id: str, event_type: str) -> list[Webhook]:
        """The teacher's active webhooks for this event type."""

    def add_deliveries(self, webhooks: Sequence[Webhook], envelope: dict[str, Any]
                       ) -> list[str]:
        """One pending delivery per webhook for this event (existing ones are kept: the
        fan-out is idempotent); the ids of the event's still-pending deliveries."""

    def add_manual(self, delivery: Delivery) -> str: ...

    def delivery(self, delivery_id: str) -> Delivery | None: ...

    def deliveries(self, webhook_id: str, after: tuple[datetime, str] | None, limit: int
                   ) -> list[Delivery]:
        """Newest first, after the (created_at, id) keyset position."""

    def record(self, delivery: Delivery, attempt: Attempt, status: str,
               next_attempt_at: datetime | None, disable_after: int,
               disabled_events: Sequence[Envelope]) -> bool:
        """Stores an attempt and the delivery's new status, and counts the webhook's
        consecutive failures (reset by a success); when they reach `disable_after` the
        webhook is disabled with `disabled_events` in the outbox. True if this attempt
        disabled the webhook. Ignored (False) when the attempt was already recorded."""


class WebhookSender(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str], timeout_s: float,
             address: str) -> Attempt:
        """Connects to `address` (the one the URL check approved; the URL's host still names
        the TLS server and the Host header). Never follows redirects (a redirect is a failed
        attempt); any error is a failed attempt, never an exception."""


class DeliveryQueue(Protocol):
    def enqueue(self, delivery_ids: Sequence[str]) -> None: ...
