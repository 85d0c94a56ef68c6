"""The Teacher API's Lambda authorizer logic: resolves who is calling, from an API key
(`X-Api-Key: edu_...` or `Authorization: Bearer edu_...`) or an access token.

It never denies: it answers with the caller's claims, or with why the credentials failed,
and the function turns that into a problem document (401 for a bad or revoked key, 429 past
the key's rate limit) through `caller()`. API Gateway's own deny would be a bare 403.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from edu.apikeys.service import ApiKeyService, KeyRejected, looks_like_api_key
from edu.auth.claims import claim_flag

Context = dict[str, str]


class TokenRejected(Exception):
    """An access token that does not verify (expired, forged, wrong audience...)."""


def _flag(value: Any) -> str:
    return "true" if claim_flag(value) else "false"


@dataclass
class RequestAuthorizer:
    keys: ApiKeyService
    verify_token: Callable[[str], Mapping[str, Any]]  # raises TokenRejected
    # (key id) -> seconds to wait when the key is past its rate limit, else None
    over_limit: Callable[[str], int | None]

    def context(self, headers: Mapping[str, str]) -> Context:
        lowered = {k.lower(): v for k, v in headers.items()}
        bearer = lowered.get("authorization", "")
        token = bearer[7:].strip() if bearer.lower().startswith("bearer ") else ""
        key = lowered.get("x-api-key", "").strip() or (token if looks_like_api_key(token)
                                                       else "")
        if key:
            return self._from_key(key)
        if token:
            return self._from_token(token)
        return {"auth": "none"}

    def _from_key(self, key: str) -> Context:
        try:
            identity = self.keys.authenticate(key)
        except KeyRejected as exc:
            return {"auth": "error", "auth_error": str(exc), "error_code": "invalid_key"}
        retry_after = self.over_limit(identity.key_id)
        if retry_after is not None:
            return {"auth": "error", "error_code": "rate_limited", "retry_after": str(retry_after),
                    "auth_error": "This API key sent too many requests; slow down."}
        user = identity.user
        return {"auth": "api_key", "sub": user.id, "email": user.email, "role": user.role,
                "is_verified": _flag(user.is_verified), "key_id": identity.key_id,
                "scopes": " ".join(sorted(identity.scopes))}

    def _from_token(self, token: str) -> Context:
        try:
            claims = self.verify_token(token)
        except TokenRejected as exc:
            return {"auth": "error", "auth_error": f"The access token is not valid: {exc}.",
                    "error_code": "invalid_token"}
        context = {"auth": "jwt", "sub": str(claims.get("sub", "")),
                   "email": str(claims.get("email", "")), "role": str(claims.get("role", "")),
                   "is_verified": _flag(claims.get("is_verified"))}
        if claims.get("sid"):
            context["sid"] = str(claims["sid"])
        return context
