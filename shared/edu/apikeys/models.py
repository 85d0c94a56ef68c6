"""API key inputs and outputs. The secret appears once, in ApiKeyCreated."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Scope = Literal["read:courses", "write:courses", "read:analytics"]
SCOPES: tuple[str, ...] = ("read:courses", "write:courses", "read:analytics")


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="what the key is for")
    scopes: list[Scope] = Field(min_length=1, description="what the key may do")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("the name must not be blank")
        return value

    @field_validator("scopes")
    @classmethod
    def _unique(cls, value: list[Scope]) -> list[Scope]:
        return sorted(set(value))


class ApiKeyOut(BaseModel):
    id: str
    name: str
    scopes: list[str]
    prefix: str = Field(description="the key's first characters, to recognise it")
    created_at: datetime
    revoked_at: datetime | None = None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="the secret key: shown only now, store it safely")


class ApiKeyRecord(BaseModel):
    """A stored key: the secret only as its SHA-256."""

    id: str
    user_id: str
    name: str
    scopes: list[str]
    prefix: str
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None = None

    def public(self) -> ApiKeyOut:
        return ApiKeyOut(**self.model_dump(exclude={"user_id", "secret_hash"}))


class ApiKeyList(BaseModel):
    items: list[ApiKeyOut]
