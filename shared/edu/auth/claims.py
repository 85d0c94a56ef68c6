"""The caller, as the API's JWT authorizer vouched for them (requestContext claims)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edu.errors import Forbidden, RateLimited, Unauthorized


@dataclass(frozen=True)
class Caller:
    user_id: str
    email: str
    role: str
    is_verified: bool
    session_id: str | None
    # Set when the caller is an API key: what it may do (None = a signed-in session).
    scopes: frozenset[str] | None = None
    key_id: str | None = None


def claim_flag(value: Any) -> bool:
    """A boolean claim as decoded (True) or as API Gateway passes it on ("true")."""
    return value is True or str(value).lower() == "true"


def caller_from_claims(claims: Mapping[str, Any]) -> Caller:
    """A Caller from verified token claims (as decoded, or as API Gateway hands them to the
    function: strings, "true"/"false") or from the Teacher API authorizer's context, which
    may instead say why the credentials failed."""
    if claims.get("auth_error"):
        if claims.get("error_code") == "rate_limited":
            raise RateLimited(str(claims["auth_error"]),
                              retry_after=int(str(claims.get("retry_after") or 1)))
        raise Unauthorized(str(claims["auth_error"]), error="invalid_token")
    sub = claims.get("sub")
    if not sub:
        raise Unauthorized("Send a valid access token: Authorization: Bearer <token>.",
                           error="invalid_token")
    return Caller(user_id=str(sub), email=str(claims.get("email", "")),
                  role=str(claims.get("role", "")),
                  is_verified=claim_flag(claims.get("is_verified")),
                  session_id=str(claims["sid"]) if claims.get("sid") else None,
                  scopes=frozenset(str(claims.get("scopes", "")).split())
                  if claims.get("auth") == "api_key" else None,
                  key_id=str(claims["key_id"]) if claims.get("key_id") else None)


def require_verified_teacher(who: Caller, what: str) -> None:
    """403 unless the caller is a teacher an administrator has verified; `what` names the
    thing only such teachers may do ("create courses")."""
    if who.role != "teacher":
        raise Forbidden(f"Only teachers can {what}.")
    if not who.is_verified:
        raise Forbidden("Your teacher account is not verified yet. Ask for verification "
                        "(POST /teachers/me/verification); once an administrator approves "
                        f"it, sign in again and {what}.")
