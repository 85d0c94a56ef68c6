"""Keyset pagination: opaque, signed cursors and the list envelope `{items, next_cursor}`.

A cursor carries the last row's sort key and a fingerprint of the query it belongs to; it
is HMAC-signed so clients cannot forge positions, and a cursor from another query (other
filters or sort) is refused with 400 instead of returning a wrong page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from edu.errors import BadRequest

T = TypeVar("T")

MAX_LIMIT = 100


class PageParams(BaseModel):
    limit: int = Field(20, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(None, max_length=2000)


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorCodec:
    def __init__(self, secret: str) -> None:
        self.key = hashlib.sha256(("cursor:" + secret).encode()).digest()

    def _sign(self, payload: bytes) -> str:
        return _b64(hmac.new(self.key, payload, hashlib.sha256).digest()[:16])

    def encode(self, position: list[Any], query: str) -> str:
        payload = json.dumps({"p": position, "q": _fingerprint(query)},
                             separators=(",", ":"), default=str).encode()
        return f"{_b64(payload)}.{self._sign(payload)}"

    def decode(self, cursor: str, query: str,
               kinds: tuple[type | tuple[type, ...], ...] | None = None) -> list[Any]:
        """The position a cursor carries; with `kinds`, one value of each kind in order (a
        signed cursor of another layout, e.g. from an older release, is a 400, not a 500)."""
        try:
            body, signature = cursor.split(".", 1)
            payload = _unb64(body)
        except (ValueError, TypeError):
            raise BadRequest("The cursor is not valid.") from None
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise BadRequest("The cursor is not valid.")
        data = json.loads(payload)
        if not isinstance(data, dict):
            raise BadRequest("The cursor is not valid.")
        if data.get("q") != _fingerprint(query):
            raise BadRequest("The cursor belongs to another query (filters or sort changed).")
        position = data.get("p")
        if not isinstance(position, list) or (kinds is not None and (
                len(position) != len(kinds)
                or not all(isinstance(v, k) and not isinstance(v, bool)
                           for v, k in zip(position, kinds, strict=True)))):
            raise BadRequest("The cursor is not valid.")
        return position


def _fingerprint(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()[:12]
