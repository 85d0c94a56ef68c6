"""What enrollment needs from storage, the courses context and the payment provider."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from edu.enrollment.models import (
    CourseFacts,
    EnrollmentOut,
    LessonProgress,
    Payment,
)
from edu.events import Envelope


class AlreadyEnrolled(Exception):
    def __init__(self, existing: EnrollmentOut) -> None:
        super().__init__(existing.id)
        self.existing = existing


class InvalidSignature(Exception):
    pass


class ProgressContended(Exception):
    """Concurrent saves of one student's progress on a course kept colliding."""


@dataclass(frozen=True)
class FulfilmentResult:
    duplicate_event: bool      # this event id was handled before
    enrollment: EnrollmentOut | None  # created now (None if it existed already)


@dataclass(frozen=True)
class SavedProgress:
    lessons: list[LessonProgress]  # the user's progress on the course's current lessons
    completed_now_at: datetime | None  # set when this save completed the course, once
    lesson_completed_now: bool = False  # this save completed the lesson for the first time


class Courses(Protocol):
    def facts(self, course_id: str) -> CourseFacts | None: ...


class PaymentGateway(Protocol):
    def create_intent(self, amount: int, currency: str, metadata: dict[str, str],
                      idempotency_key: str) -> tuple[str, str]:
        """(provider reference, client secret) of a new payment intent."""

    def parse_webhook(self, payload: bytes, signature: str) -> dict[str, Any]:
        """The verified event; InvalidSignature when the signature does not match."""

    def cancel_intent(self, provider_ref: str) -> bool:
        """Cancels an unpaid intent so that it can no longer be paid; False when the provider
        refuses because it is paid or being paid."""


class EnrollmentStore(Protocol):
    def get_enrollment(self, user_id: str, course_id: str) -> EnrollmentOut | None: ...

    def create_enrollment(self, user_id: str, enrollment: EnrollmentOut,
                          events: Sequence[Envelope] = ()) -> None:
        """AlreadyEnrolled if an active enrollment exists (a revoked one is replaced).
        `events` are written to the outbox in the same transaction (so everywhere below)."""

    def list_enrollments(self, user_id: str, after: str | None, limit: int
                         ) -> list[EnrollmentOut]: ...

    def pending_payment(self, user_id: str, course_id: str) -> Payment | None: ...

    def save_payment(self, payment: Payment) -> None: ...

    def cancel_payment(self, payment: Payment) -> bool:
        """Marks a pending payment canceled; False if it is no longer pending."""

    def payment_by_ref(self, provider_ref: str) -> Payment | None: ...

    def list_payments(self, user_id: str) -> list[Payment]: ...

    def fulfil(self, event_id: str, payment: Payment, enrollment: EnrollmentOut,
               events: Sequence[Envelope] = ()) -> FulfilmentResult:
        """Atomically: mark the event handled, the payment succeeded, and create the
        enrollment (with `events`) unless one exists. Exactly once per event id and per
        payment."""

    def mark_payment(self, event_id: str, payment: Payment, status: str,
                     revoke_enrollment: bool, events: Sequence[Envelope] = ()) -> bool:
        """Records a failure or refund once per event id; False for a duplicate event."""

    def save_progress(self, user_id: str, course_id: str, progress: LessonProgress,
                      lesson_ids: frozenset[str],
                      completion_events: Sequence[Envelope] = (),
                      lesson_events: Sequence[Envelope] = (),
                      enrollment: EnrollmentOut | None = None) -> SavedProgress:
        """Stores a lesson's progress and the counters of `enrollment` (the student's, as
        read; None for the course's teacher, who has no counters and emits nothing).
        `completion_events` are written only by the save that completes the course (once per
        enrollment), `lesson_events` only by a save that marks the lesson completed when it
        was not. A save that changes neither (the player's position saves every 10 s) writes
        the lesson alone. Concurrent saves are applied one after another (ProgressContended if
        that keeps failing)."""

    def progress(self, user_id: str, course_id: str) -> list[LessonProgress]: ...
