"""The caller, as the API's JWT authorizer vouched for them (requestContext claims)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edu.errors import Forbidden, Unauthorized
from edu.http import Request


@dataclass(frozen=True)
class Caller:
    user_id: str
    email: str
    role: str
    is_verified: bool
    session_id: str | None


def caller(request: Request) -> Caller:
    """The authenticated caller; 401 when the route ran without a verified token."""
    return caller_from_claims(request.claims)


def caller_from_claims(claims: Mapping[str, Any]) -> Caller:
    """A Caller from verified token claims: as decoded (booleans) or as API Gateway hands
    them to the function (strings, "true"/"false")."""
    sub = claims.get("sub")
    if not sub:
        raise Unauthorized("Send a valid access token: Authorization: Bearer <token>.",
                           error="invalid_token")
    verified = claims.get("is_verified")
    return Caller(user_id=str(sub), email=str(claims.get("email", "")),
                  role=str(claims.get("role", "")),
                  is_verified=verified is True or str(verified).lower() == "true",
                  session_id=str(claims["sid"]) if claims.get("sid") else None)


def require_verified_teacher(who: Caller, what: str) -> None:
    """403 unless the caller is a teacher an administrator has verified; `what` names the
    thing only such teachers may do ("create courses")."""
    if who.role != "teacher":
        raise Forbidden(f"Only teachers can {what}.")
    if not who.is_verified:
        raise Forbidden("Your teacher account is not verified yet. Ask for verification "
                        "(POST /teachers/me/verification); once an administrator approves "
                        f"it, sign in again and {what}.")
