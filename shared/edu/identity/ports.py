"""What identity needs from the outside world; adapters in edu.adapters implement these."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from edu.events import Envelope
from edu.identity.models import TokenFamily, User


class EmailTaken(Exception):
    pass


class UserRepository(Protocol):
    def create(self, user: User, events: Sequence[Envelope] = ()) -> None:
        """Stores a new user and its events' outbox items in one transaction; raises
        EmailTaken if the email is registered (atomically)."""

    def by_id(self, user_id: str) -> User | None: ...

    def by_email(self, email: str) -> User | None: ...

    def update(self, user: User, events: Sequence[Envelope] = ()) -> None:
        """Replaces the stored user (same id and email), with its events' outbox items."""


class TokenFamilies(Protocol):
    def start(self, family: TokenFamily) -> None: ...

    def get(self, family_id: str) -> TokenFamily | None: ...

    def rotate(self, family: TokenFamily, expected_hash: str) -> bool:
        """Stores `family`'s token state (current and previous hash, rotation time, expiry)
        if the stored family's current hash is still expected_hash and it is not revoked;
        False if it was not."""

    def revoke(self, family_id: str) -> None: ...


class RateLimiter(Protocol):
    def hit(self, key: str, limit: int, window_s: int) -> int | None:
        """Counts one attempt; returns seconds to wait when over the limit, else None."""

    def count(self, key: str, window_s: int) -> int:
        """How many events `key` recorded within the window (0 when unknown)."""

    def record(self, key: str, window_s: int) -> None:
        """Records one event under `key` for the window."""


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...

    def needs_rehash(self, password_hash: str) -> bool: ...


class AccessTokens(Protocol):
    def issue(self, user: User, family_id: str) -> tuple[str, int]:
        """A signed access token for user and its lifetime in seconds."""
