"""Domain events: the envelope, each event type's payload model, and the publisher port.

Payload models are the single source of our event contracts; events/schemas/*.json are
generated from them (`python -m edu.events.schemas`), and a test keeps the files current.
A malformed event is a bug: `make_event` rejects it at the producer.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class EventPayload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UserCreated(EventPayload):
    user_id: str
    email: str
    full_name: str
    role: Literal["student", "teacher", "admin"]
    is_verified: bool


class UserVerified(EventPayload):
    user_id: str
    email: str
    full_name: str
    decision: Literal["verified", "rejected"]
    reason: str | None = None


class Price(EventPayload):
    amount: int
    currency: str


class CoursePublished(EventPayload):
    course_id: str
    teacher_id: str
    title: str
    subtitle: str
    category: str
    level: str
    language: str
    price: Price
    tags: list[str]
    version: int
    published_at: str


class CourseUpdated(EventPayload):
    course_id: str
    teacher_id: str
    status: Literal["draft", "published", "archived"]
    version: int
    changed: list[str]


class EnrollmentCreated(EventPayload):
    enrollment_id: str
    user_id: str
    course_id: str
    course_title: str
    teacher_id: str
    source: Literal["free", "payment"]
    payment_id: str | None = None


class PaymentSucceeded(EventPayload):
    payment_id: str
    user_id: str
    course_id: str
    teacher_id: str
    amount: int
    currency: str
    provider_ref: str


class PaymentRefunded(EventPayload):
    payment_id: str
    user_id: str
    course_id: str
    teacher_id: str
    amount: int
    currency: str


class LessonCompleted(EventPayload):
    user_id: str
    course_id: str
    lesson_id: str
    teacher_id: str


class CourseCompleted(EventPayload):
    user_id: str
    course_id: str
    teacher_id: str
    course_title: str


class VideoTranscoded(EventPayload):
    course_id: str
    lesson_id: str
    upload_id: str
    user_id: str  # the teacher, who is told the video is ready
    duration_s: float
    renditions: list[str]


class VideoFailed(EventPayload):
    course_id: str
    lesson_id: str
    upload_id: str
    user_id: str  # the teacher
    reason: str


class WebhookDisabled(EventPayload):
    webhook_id: str
    user_id: str  # the teacher, who is told by email
    url: str
    reason: str


class LiveScheduled(EventPayload):
    session_id: str
    course_id: str
    course_title: str
    teacher_id: str
    title: str
    starts_at: str  # ISO 8601, UTC


class LiveStarted(EventPayload):
    session_id: str
    course_id: str
    teacher_id: str
    title: str


class LiveEnded(EventPayload):
    session_id: str
    course_id: str
    teacher_id: str
    title: str


EVENT_TYPES: dict[str, type[EventPayload]] = {
    "user.created": UserCreated,
    "user.verified": UserVerified,
    "course.published": CoursePublished,
    "course.updated": CourseUpdated,
    "enrollment.created": EnrollmentCreated,
    "payment.succeeded": PaymentSucceeded,
    "payment.refunded": PaymentRefunded,
    "lesson.completed": LessonCompleted,
    "course.completed": CourseCompleted,
    "video.transcoded": VideoTranscoded,
    "video.failed": VideoFailed,
    "webhook.disabled": WebhookDisabled,
    "live.scheduled": LiveScheduled,
    "live.started": LiveStarted,
    "live.ended": LiveEnded,
}


def event_time(at: datetime) -> str:
    """An event's `occurred_at`: UTC, milliseconds, `Z` (sortable as text)."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    type: str
    version: int = 1
    occurred_at: str = Field(default_factory=lambda: event_time(datetime.now(UTC)))
    source: str
    data: dict[str, Any]


class MalformedEvent(Exception):
    """A producer tried to publish an event that breaks its contract (a bug, not input)."""


def make_event(event_type: str, data: EventPayload | dict[str, Any], *, source: str
               ) -> Envelope:
    model = EVENT_TYPES.get(event_type)
    if model is None:
        raise MalformedEvent(f"unknown event type {event_type!r}")
    try:
        payload = data if isinstance(data, model) else model.model_validate(
            data.model_dump() if isinstance(data, BaseModel) else data)
    except ValidationError as exc:
        raise MalformedEvent(f"{event_type}: {exc}") from exc
    return Envelope(type=event_type, source=source, data=payload.model_dump(mode="json"))


class EventPublisher(Protocol):
    def publish(self, events: list[Envelope]) -> None:
        """Publishes events; raises on failure (callers decide whether to retry or park)."""
