"""Live sessions: what a teacher schedules for a course, and what the API shows of one."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

LiveStatus = Literal["scheduled", "live", "ended", "cancelled"]
OPEN: tuple[LiveStatus, ...] = ("scheduled", "live")  # upcoming sessions; their rooms are open


class LiveSessionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=200)
    starts_at: AwareDatetime = Field(description="with a time zone, e.g. 2027-01-15T17:00:00Z")

    @field_validator("title")
    @classmethod
    def _printable(cls, title: str) -> str:
        if any(ord(c) < 32 for c in title):
            raise ValueError("the title cannot hold control characters")
        return title


class LiveSession(BaseModel):
    id: str
    course_id: str
    teacher_id: str
    title: str
    starts_at: datetime
    status: LiveStatus
    created_at: datetime
    updated_at: datetime


class LiveSessionOut(LiveSession):
    """A live session as the API shows it."""


class LiveSessionList(BaseModel):
    items: list[LiveSessionOut]
