"""API key rules: verified teachers create up to MAX_ACTIVE keys; a presented key resolves
to its teacher as they are now (role and verification re-read), within the key's scopes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from edu.apikeys.models import ApiKeyCreated, ApiKeyIn, ApiKeyList, ApiKeyOut, ApiKeyRecord
from edu.apikeys.ports import ApiKeyStore
from edu.auth.claims import Caller, require_verified_teacher
from edu.errors import Conflict, NotFound
from edu.identity.models import User

PREFIX = "edu_"
MAX_ACTIVE = 10


class Users(Protocol):
    def by_id(self, user_id: str) -> User | None: ...


class KeyRejected(Exception):
    """The presented key does not authenticate anyone; the message says why."""


@dataclass(frozen=True)
class KeyIdentity:
    user: User
    key_id: str
    scopes: frozenset[str]


def looks_like_api_key(credential: str) -> bool:
    return credential.startswith(PREFIX)


def _hash(secret: str) -> str:
    # Keys are 256-bit random: a fast hash is enough (argon2 is for guessable passwords).
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKeyService:
    def __init__(self, store: ApiKeyStore, users: Users,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store = store
        self.users = users
        self.clock = clock

    def create(self, who: Caller, data: ApiKeyIn) -> ApiKeyCreated:
        require_verified_teacher(who, "create API keys")
        active = [k for k in self.store.list_for(who.user_id) if k.revoked_at is None]
        if len(active) >= MAX_ACTIVE:
            raise Conflict(f"You have {MAX_ACTIVE} active API keys; revoke one first.")
        key_id = secrets.token_hex(8)
        key = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        record = ApiKeyRecord(id=key_id, user_id=who.user_id, name=data.name,
                              scopes=list(data.scopes), prefix=key[:len(PREFIX) + 8],
                              secret_hash=_hash(key), created_at=self.clock())
        self.store.create(record)
        return ApiKeyCreated(**record.public().model_dump(), key=key)

    def list(self, who: Caller) -> ApiKeyList:
        require_verified_teacher(who, "use API keys")
        return ApiKeyList(items=[k.public() for k in self.store.list_for(who.user_id)])

    def revoke(self, who: Caller, key_id: str) -> ApiKeyOut:
        record = self.store.revoke(who.user_id, key_id, self.clock())
        if record is None:
            raise NotFound("You have no API key with this id.")
        return record.public()

    def authenticate(self, key: str) -> KeyIdentity:
        """The teacher a key acts for; KeyRejected when it is unknown, revoked, or its
        teacher may no longer use it."""
        body = key[len(PREFIX):] if looks_like_api_key(key) else ""
        key_id, _, secret = body.partition("_")
        record = self.store.get(key_id) if key_id and secret else None
        if record is None or not hmac.compare_digest(record.secret_hash, _hash(key)):
            raise KeyRejected("The API key is not valid.")
        if record.revoked_at is not None:
            raise KeyRejected("The API key was revoked.")
        user = self.users.by_id(record.user_id)
        if user is None or user.role != "teacher" or not user.is_verified:
            raise KeyRejected("The API key's teacher account can no longer use API keys.")
        return KeyIdentity(user=user, key_id=record.id, scopes=frozenset(record.scopes))
