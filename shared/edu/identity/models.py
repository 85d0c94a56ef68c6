"""Identity's input/output models (pydantic) and its stored entities."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    HttpUrl,
    StrictBool,
)

Role = Literal["student", "teacher", "admin"]
VerificationStatus = Literal["none", "pending", "verified", "rejected"]


def normalize_email(value: str) -> str:
    return value.strip().lower()


def _strip(value: str) -> str:
    return " ".join(value.split())


NormalizedEmail = Annotated[EmailStr, AfterValidator(normalize_email)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=10_000)


class RegisterIn(_Input):
    email: NormalizedEmail
    password: str = Field(min_length=10, max_length=256)
    full_name: Annotated[str, AfterValidator(_strip)] = Field(min_length=1, max_length=200)
    role: Literal["student", "teacher"]


class LoginIn(_Input):
    email: NormalizedEmail
    password: str = Field(min_length=1, max_length=256)


class RefreshIn(_Input):
    refresh_token: str | None = Field(None, min_length=10, max_length=512,
                                      description="or none: the session cookie's")


class LogoutIn(_Input):
    refresh_token: str | None = Field(None, min_length=10, max_length=512)


class VerificationIn(_Input):
    bio: str = Field(min_length=20, max_length=2000)
    link: HttpUrl


class VerificationDecisionIn(_Input):
    reason: str | None = Field(None, max_length=1000)


@dataclass(frozen=True)
class User:
    id: str
    email: str
    full_name: str
    role: Role
    password_hash: str
    created_at: datetime
    is_verified: bool = False
    verification_status: VerificationStatus = "none"
    verification_bio: str | None = None
    verification_link: str | None = None
    verification_note: str | None = None
    marketing_opt_out: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    def with_changes(self, **changes: object) -> User:
        return replace(self, **changes)  # type: ignore[arg-type]


class UserOut(BaseModel):
    id: str
    email: str
    full_name: str
    role: Role
    is_verified: bool
    created_at: datetime
    verification_status: VerificationStatus

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(id=user.id, email=user.email, full_name=user.full_name, role=user.role,
                   is_verified=user.is_verified, created_at=user.created_at,
                   verification_status=user.verification_status)


class NotificationPrefsIn(_Input):
    marketing_emails: StrictBool  # "no"/"off" are not answers to a yes/no setting


class NotificationPrefsOut(BaseModel):
    marketing_emails: bool
    transactional_emails: Literal[True] = True  # receipts and account mail always go out


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int


@dataclass(frozen=True)
class TokenFamily:
    """A chain of rotated refresh tokens from one login. The newest may be spent; so may the
    one spent last, within a short grace after its spending, because the answer that spent it
    may never have arrived (a page navigated away, a phone lost its signal)."""

    id: str
    user_id: str
    current_hash: str
    expires_at: datetime
    revoked: bool = False
    previous_hash: str | None = None  # the token spent last
    rotated_at: datetime | None = None  # when it was first spent
