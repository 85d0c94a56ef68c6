"""Where API keys live."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from edu.apikeys.models import ApiKeyRecord


class ApiKeyStore(Protocol):
    def create(self, record: ApiKeyRecord) -> None: ...

    def get(self, key_id: str) -> ApiKeyRecord | None: ...

    def list_for(self, user_id: str) -> list[ApiKeyRecord]:
        """The user's keys, newest first, revoked ones included."""

    def revoke(self, user_id: str, key_id: str, at: datetime) -> ApiKeyRecord | None:
        """Marks the user's key revoked (once); None when the user has no such key."""
