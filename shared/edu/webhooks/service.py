"""Webhook rules: who may subscribe which URL, fan-out of events to deliveries, and one
delivery attempt at a time with backoff, a final failure, and auto-disable."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from edu.auth.claims import Caller, require_verified_teacher
from edu.errors import BadRequest, Conflict, FieldError, NotFound, ValidationFailed
from edu.events import WebhookDisabled, make_event
from edu.ids import is_uuid, uuid7
from edu.pagination import CursorCodec, Page, PageParams
from edu.webhooks.models import (
    Attempt,
    Delivery,
    DeliveryOut,
    Webhook,
    WebhookCreated,
    WebhookIn,
    WebhookList,
    WebhookOut,
    WebhookPatch,
)
from edu.webhooks.ports import DeliveryQueue, WebhookSender, WebhookStore
from edu.webhooks.signing import HEADER, signature_header
from edu.webhooks.targets import Resolver, UnsafeTarget, check_target

MAX_WEBHOOKS = 10
MAX_DELAY_S = 12 * 3600  # an SQS message can stay invisible at most this long
SOURCE = "edu.webhooks"
# Where the teacher id is in each subscribable event.
OWNER_FIELD = {"enrollment.created": "teacher_id", "course.completed": "teacher_id",
               "payment.succeeded": "teacher_id", "video.transcoded": "user_id"}


@dataclass(frozen=True)
class WebhookPolicy:
    allow_loopback: bool = False  # local development: http://127.0.0.1 receivers
    max_attempts: int = 7
    retry_base_s: int = 60        # 1 min, 3 min, 9 min ... about 6 hours in all
    disable_after: int = 20       # consecutive failed attempts
    timeout_s: float = 10.0

    def retry_delay(self, attempt: int) -> int:
        return int(min(MAX_DELAY_S, self.retry_base_s * 3 ** max(0, attempt - 1)))


@dataclass(frozen=True)
class Outcome:
    result: Literal["delivered", "retry", "failed", "skipped"]
    retry_in_s: int | None = None
    detail: str = ""


class WebhookService:
    def __init__(self, store: WebhookStore, sender: WebhookSender, queue: DeliveryQueue,
                 resolve: Resolver, cursors: CursorCodec, policy: WebhookPolicy,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 flush: Callable[[], None] = lambda: None) -> None:
        self.store = store
        self.sender = sender
        self.queue = queue
        self.resolve = resolve
        self.cursors = cursors
        self.policy = policy
        self.clock = clock
        self.flush = flush  # publishes outbox events after a commit that wrote some

    # --- managing ---------------------------------------------------------------------

    def create(self, who: Caller, data: WebhookIn) -> WebhookCreated:
        require_verified_teacher(who, "add webhooks")
        self._check_url(data.url)
        if len(self.store.list_for(who.user_id)) >= MAX_WEBHOOKS:
            raise Conflict(f"You have {MAX_WEBHOOKS} webhooks; delete one first.")
        hook = Webhook(id=uuid7(), teacher_id=who.user_id, url=data.url,
                       events=list(data.events), status="active",
                       signing_secret="whsec_" + secrets.token_urlsafe(32),
                       created_at=self.clock())
        self.store.create(hook)
        return WebhookCreated(**hook.public().model_dump(), secret=hook.signing_secret)

    def list(self, who: Caller) -> WebhookList:
        require_verified_teacher(who, "use webhooks")
        return WebhookList(items=[h.public() for h in self.store.list_for(who.user_id)])

    def update(self, who: Caller, webhook_id: str, patch: WebhookPatch) -> WebhookOut:
        hook = self._own(who, webhook_id)
        if patch.status == "active":
            self._check_url(hook.url)
        self.store.set_status(hook.id, patch.status,
                              None if patch.status == "active" else "disabled by you")
        return self._own(who, webhook_id).public()

    def delete(self, who: Caller, webhook_id: str) -> None:
        self.store.delete(self._own(who, webhook_id).id)

    def deliveries(self, who: Caller, webhook_id: str, query: PageParams
                   ) -> Page[DeliveryOut]:
        hook = self._own(who, webhook_id)
        scope = f"deliveries:{hook.id}"
        after = None
        if query.cursor:
            at, delivery_id = self.cursors.decode(query.cursor, scope, (str, str))
            try:
                after = (datetime.fromisoformat(at), delivery_id)
            except ValueError:
                raise BadRequest("The cursor is not valid.") from None
        rows = self.store.deliveries(hook.id, after, query.limit + 1)
        items = rows[:query.limit]
        cursor = (self.cursors.encode([items[-1].created_at.isoformat(), items[-1].id], scope)
                  if len(rows) > query.limit else None)
        return Page[DeliveryOut](items=[DeliveryOut(**d.model_dump(
            include=set(DeliveryOut.model_fields))) for d in items], next_cursor=cursor)

    def redeliver(self, who: Caller, webhook_id: str, delivery_id: str) -> DeliveryOut:
        hook = self._own(who, webhook_id)
        original = self.store.delivery(delivery_id) if is_uuid(delivery_id) else None
        if original is None or original.webhook_id != hook.id:
            raise NotFound("This webhook has no delivery with this id.")
        if hook.status != "active":
            raise Conflict("The webhook is disabled; enable it first (PATCH status=active).")
        now = self.clock()
        copy = Delivery(id=uuid7(), webhook_id=hook.id, event_id=original.event_id,
                        event_type=original.event_type, payload=original.payload,
                        status="pending", attempts=0, manual=True, created_at=now,
                        updated_at=now)
        self.store.add_manual(copy)
        self.queue.enqueue([copy.id])
        return DeliveryOut(**copy.model_dump(include=set(DeliveryOut.model_fields)))

    # --- delivering ---------------------------------------------------------------------

    def fan_out(self, envelope: Mapping[str, Any]) -> int:
        """Creates (once) a delivery per subscribed webhook and queues the pending ones."""
        event_type = str(envelope.get("type", ""))
        owner = OWNER_FIELD.get(event_type)
        teacher_id = str((envelope.get("data") or {}).get(owner, "")) if owner else ""
        if not teacher_id:
            return 0
        hooks = self.store.subscribed(teacher_id, event_type)
        if not hooks:
            return 0
        pending = self.store.add_deliveries(hooks, dict(envelope))
        if pending:
            self.queue.enqueue(pending)
        return len(pending)

    def deliver(self, delivery_id: str) -> Outcome:
        delivery = self.store.delivery(delivery_id) if is_uuid(delivery_id) else None
        if delivery is None or delivery.status != "pending":
            return Outcome("skipped", detail="no pending delivery")
        hook = self.store.get(delivery.webhook_id)
        if hook is None:
            return Outcome("skipped", detail="webhook deleted")
        attempt_no = delivery.attempts + 1
        if hook.status != "active":
            return self._finish(delivery, hook, attempt_no, Attempt(
                status_code=None, error="the webhook is disabled", duration_ms=0), final=True)
        try:
            addresses = check_target(hook.url, self.resolve,
                                     allow_loopback=self.policy.allow_loopback)
        except UnsafeTarget as exc:  # e.g. DNS now points into a private network
            return self._finish(delivery, hook, attempt_no, Attempt(
                status_code=None, error=f"refused target: {exc}", duration_ms=0), final=True)
        body = json.dumps(delivery.payload, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json",
                   "User-Agent": "EduPlatform-Webhooks/1",
                   "Edu-Delivery": delivery.id, "Edu-Event": delivery.event_type,
                   HEADER: signature_header(hook.signing_secret,
                                            int(self.clock().timestamp()), body)}
        attempt = self.sender.post(hook.url, body, headers, self.policy.timeout_s,
                                   str(addresses[0]))
        return self._finish(delivery, hook, attempt_no, attempt,
                            final=attempt_no >= self.policy.max_attempts)

    def _finish(self, delivery: Delivery, hook: Webhook, attempt_no: int, attempt: Attempt,
                final: bool) -> Outcome:
        delivery = delivery.model_copy(update={"attempts": attempt_no})
        if attempt.accepted:
            self.store.record(delivery, attempt, "succeeded", None, self.policy.disable_after,
                              [])
            return Outcome("delivered")
        delay = None if final else self.policy.retry_delay(attempt_no)
        next_at = None if delay is None else self.clock() + timedelta(seconds=delay)
        why = attempt.error or f"HTTP {attempt.status_code}"
        disabled = [make_event("webhook.disabled", WebhookDisabled(
            webhook_id=hook.id, user_id=hook.teacher_id, url=hook.url,
            reason=f"{self.policy.disable_after} deliveries in a row failed (last: {why})"),
            source=SOURCE)]
        if self.store.record(delivery, attempt, "failed" if final else "pending", next_at,
                             self.policy.disable_after, disabled):
            self.flush()
        if final:
            return Outcome("failed", detail=why)
        return Outcome("retry", retry_in_s=delay, detail=why)

    # --- helpers ------------------------------------------------------------------------

    def _check_url(self, url: str) -> None:
        try:
            check_target(url, self.resolve, allow_loopback=self.policy.allow_loopback)
        except UnsafeTarget as exc:
            raise ValidationFailed("The webhook URL is not allowed.",
                                   [FieldError("url", str(exc))]) from None

    def _own(self, who: Caller, webhook_id: str) -> Webhook:
        hook = self.store.get(webhook_id) if is_uuid(webhook_id) else None
        if hook is None or hook.teacher_id != who.user_id:
            raise NotFound("You have no webhook with this id.")
        return hook
