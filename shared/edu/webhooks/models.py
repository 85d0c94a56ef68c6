"""Webhook inputs, outputs and stored records."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

WebhookEvent = Literal["enrollment.created", "course.completed", "payment.succeeded",
                       "video.transcoded"]
WEBHOOK_EVENTS: tuple[str, ...] = ("enrollment.created", "course.completed",
                                   "payment.succeeded", "video.transcoded")
Status = Literal["active", "disabled"]


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2000, description="https:// endpoint")
    events: list[WebhookEvent] = Field(min_length=1)

    @field_validator("events")
    @classmethod
    def _unique(cls, value: list[WebhookEvent]) -> list[WebhookEvent]:
        return sorted(set(value))


class WebhookPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Status = Field(description="'active' re-enables a disabled webhook")


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[str]
    status: Status
    disabled_reason: str | None = None
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="signing secret: shown only now")


class WebhookList(BaseModel):
    items: list[WebhookOut]


class Webhook(BaseModel):
    id: str
    teacher_id: str
    url: str
    events: list[str]
    signing_secret: str
    status: Status
    disabled_reason: str | None = None
    consecutive_failures: int = 0
    created_at: datetime

    def public(self) -> WebhookOut:
        return WebhookOut(**self.model_dump(include=set(WebhookOut.model_fields)))


class DeliveryOut(BaseModel):
    id: str
    event_id: str
    event_type: str
    status: Literal["pending", "succeeded", "failed"]
    attempts: int
    manual: bool
    last_status: int | None = Field(None, description="the receiver's last HTTP status")
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class Delivery(DeliveryOut):
    webhook_id: str
    payload: dict[str, Any]


class Attempt(BaseModel):
    """One POST: the receiver's status (None when it could not be reached) or the error."""

    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def accepted(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
