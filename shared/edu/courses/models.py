"""Courses' input/output models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from edu.currencies import price_problem
from edu.pagination import MAX_LIMIT

Level = Literal["beginner", "intermediate", "advanced"]
Status = Literal["draft", "published", "archived"]
LessonKind = Literal["video", "text"]


def _clean(value: str) -> str:
    return " ".join(value.split())


Title = Annotated[str, AfterValidator(_clean), Field(min_length=1, max_length=200)]
Slug = Annotated[str, Field(min_length=2, max_length=40, pattern=r"^[a-z0-9][a-z0-9-]*$")]


class Money(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: int = Field(ge=0, le=10_000_000, description="minor units; 0 = free, else at "
                        "least the currency's minimum charge")
    currency: str = Field(pattern=r"^[a-z]{3}$",
                          description="ISO 4217, lowercase; one payments are taken in")


def _chargeable(price: Money | None) -> Money | None:
    """A price a teacher sets: in a currency the payment provider charges in, 0 or at least
    its minimum charge (edu/currencies.py)."""
    problem = price_problem(price.amount, price.currency) if price is not None else None
    if problem:
        raise ValueError(problem)
    return price


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CourseIn(_Input):
    title: Title
    subtitle: str = Field("", max_length=300)
    description: str = Field("", max_length=20_000)
    category: Slug
    level: Level
    language: str = Field(pattern=r"^[a-z]{2}(-[A-Z]{2})?$", description="BCP 47, e.g. en")
    price: Annotated[Money, AfterValidator(_chargeable)]
    tags: list[Annotated[str, Field(min_length=1, max_length=30)]] = Field(
        default_factory=list, max_length=10)

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: list[str]) -> list[str]:
        return list(dict.fromkeys(t.strip().lower() for t in tags if t.strip()))


class CoursePatch(_Input):
    title: Title | None = None
    subtitle: str | None = Field(None, max_length=300)
    description: str | None = Field(None, max_length=20_000)
    category: Slug | None = None
    level: Level | None = None
    language: str | None = Field(None, pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    price: Annotated[Money | None, AfterValidator(_chargeable)] = None
    tags: list[Annotated[str, Field(min_length=1, max_length=30)]] | None = Field(
        None, max_length=10)

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: list[str] | None) -> list[str] | None:
        if tags is None:
            return None
        return list(dict.fromkeys(t.strip().lower() for t in tags if t.strip()))


class _CourseFields(BaseModel):
    id: str
    teacher_id: str
    title: str
    subtitle: str
    description: str
    category: str
    level: Level
    language: str
    price: Money
    tags: list[str]
    status: Status
    version: int
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None


class Course(_CourseFields):
    """A course as the repository stores it and the rules reason about."""


class CourseOut(_CourseFields):
    """A course as the API shows it (every stored field is public today; a field kept for
    storage alone goes on Course, one shown alone on CourseOut)."""

    @classmethod
    def of(cls, course: Course) -> CourseOut:
        return cls.model_validate(course, from_attributes=True)


class SectionIn(_Input):
    title: Title
    position: int | None = Field(None, ge=0, le=10_000)


class LessonIn(_Input):
    title: Title
    kind: LessonKind
    body: str = Field("", max_length=200_000)
    free_preview: bool = False
    position: int | None = Field(None, ge=0, le=10_000)


class OrderIn(_Input):
    ids: list[str] = Field(min_length=1, max_length=1000)


class LessonOut(BaseModel):
    id: str
    section_id: str
    title: str
    kind: LessonKind
    free_preview: bool
    position: int
    body: str | None = None  # text lessons, for those who may read them


class SectionOut(BaseModel):
    id: str
    title: str
    position: int
    lessons: list[LessonOut] = Field(default_factory=list)


class SyllabusOut(BaseModel):
    course_id: str
    sections: list[SectionOut]


class CatalogQuery(_Input):
    model_config = ConfigDict(extra="forbid")

    category: Slug | None = None
    level: Level | None = None
    language: str | None = Field(None, pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    price: Literal["free", "paid"] | None = None
    teacher_id: str | None = Field(None, max_length=64)
    sort: Literal["newest", "title", "price"] = "newest"
    limit: int = Field(20, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(None, max_length=2000)

    def fingerprint(self) -> str:
        return "|".join(f"{k}={v}" for k, v in sorted(self.model_dump(
            exclude={"limit", "cursor"}).items()))


class SearchQuery(CatalogQuery):
    q: str = Field(min_length=1, max_length=200)
    sort: Literal["newest", "title", "price"] = "newest"  # unused: search sorts by relevance


class SearchHit(BaseModel):
    course: CourseOut
    score: float
    highlight: str
    match: Literal["all", "any", "fuzzy", "naive", "meili"]
