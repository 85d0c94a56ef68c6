"""Enrollment's models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from edu.courses.models import Money

EnrollmentStatus = Literal["active", "revoked"]
PaymentStatus = Literal["pending", "succeeded", "failed", "refunded", "canceled"]


class EnrollmentOut(BaseModel):
    id: str
    course_id: str
    course_title: str
    status: EnrollmentStatus
    source: Literal["free", "payment"]
    created_at: datetime
    completed_lessons: int = 0
    total_lessons: int = 0
    progress_percent: float = 0.0
    completed_at: datetime | None = None


class PaymentOut(BaseModel):
    id: str
    course_id: str
    course_title: str
    price: Money
    status: PaymentStatus
    created_at: datetime
    updated_at: datetime


class PaymentStarted(BaseModel):
    """202 answer for a paid course: confirm the PaymentIntent client-side with this."""

    payment_id: str
    client_secret: str
    price: Money
    status: PaymentStatus = "pending"


class ProgressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    completed: bool
    position_seconds: int = Field(0, ge=0, le=24 * 3600)


class LessonProgress(BaseModel):
    lesson_id: str
    completed: bool
    position_seconds: int
    updated_at: datetime


class CourseProgress(BaseModel):
    course_id: str
    completed_lessons: int
    total_lessons: int
    progress_percent: float
    completed_at: datetime | None
    lessons: list[LessonProgress]


@dataclass(frozen=True)
class CourseFacts:
    """What enrollment needs to know about a course (read from the courses context)."""

    id: str
    title: str
    teacher_id: str
    status: str
    price: Money
    lesson_ids: frozenset[str]


@dataclass(frozen=True)
class Payment:
    id: str
    user_id: str
    course_id: str
    course_title: str
    teacher_id: str
    amount: int
    currency: str
    status: PaymentStatus
    provider_ref: str
    client_secret: str
    created_at: datetime
    updated_at: datetime
