"""The edge's guards, shared by handlers: who the caller is (a signed-in session that has not
been ended, or an API key with the route's scope), who it is on routes open to everyone,
rate limits (per source, per user, per API key), and the request authorizer behind the
local gateway and the Lambda authorizer."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from edu.adapters.registry import get_adapters
from edu.auth.claims import Caller, caller_from_claims
from edu.errors import Forbidden, RateLimited, Unauthorized
from edu.http import Request
from edu.services import api_key_service, jwt_issuer, rate_limiter, session_revocations

if TYPE_CHECKING:
    from edu.auth.authorizer import RequestAuthorizer


def caller(request: Request, scope: str | None = None) -> Caller:
    """The authenticated caller; 401 when the route ran without valid credentials. An API
    key is only accepted where the route names the `scope` it needs, and the key has it."""
    who = caller_from_claims(request.claims)
    sid = request.claims.get("sid")
    if sid and session_revocations().revoked(str(sid)):
        raise Unauthorized("This session has ended (signed out, or its refresh token was "
                           "used twice); sign in again.", error="invalid_token")
    if who.scopes is not None:
        if scope is None:
            raise Forbidden("API keys cannot be used on this route; sign in instead.")
        if scope not in who.scopes:
            raise Forbidden(f"This API key lacks the {scope} scope.")
    return who


def enforce_limit(key: str, limit: int) -> None:
    """A 429 (with Retry-After) once `key` passed `limit` requests in the window."""
    retry_after = rate_limiter().hit(key, limit, get_adapters().settings.rate_window_s)
    if retry_after is not None:
        raise RateLimited("Too many requests; slow down and retry later.",
                          retry_after=retry_after)


def limit_search(request: Request) -> None:
    enforce_limit(f"search:ip:{request.source_ip}",
                  get_adapters().settings.search_limit_per_ip)


def limit_writes(who: Caller) -> None:
    """Writes per user (course authoring, enrollment, progress, uploads)."""
    enforce_limit(f"write:user:{who.user_id}", get_adapters().settings.write_limit_per_user)


def limited_writer(request: Request, scope: str | None = None) -> Caller:
    """The caller of a write route, within their write rate limit (an API key also needs
    `scope`)."""
    who = caller(request, scope)
    limit_writes(who)
    return who


def _verify_access_token(token: str) -> dict[str, Any]:
    import jwt as pyjwt

    from edu.auth.authorizer import TokenRejected

    try:
        return jwt_issuer().verify(token)
    except pyjwt.PyJWTError as exc:
        raise TokenRejected(str(exc)) from None


def _api_key_over_limit(key_id: str) -> int | None:
    s = get_adapters().settings
    return rate_limiter().hit(f"apikey:{key_id}", s.api_key_limit_per_minute, s.rate_window_s)


@cache
def request_authorizer() -> RequestAuthorizer:
    from edu.auth.authorizer import RequestAuthorizer

    return RequestAuthorizer(api_key_service(), _verify_access_token, _api_key_over_limit)


def optional_caller(request: Request) -> Caller | None:
    """The caller on routes open to everyone: authorizer claims when the route has an
    authorizer, else the bearer token verified here. None when anonymous; a token that is
    present but invalid is a 401, so a client never mistakes it for anonymous access."""
    if request.claims.get("sub"):
        return caller(request)
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    import jwt as pyjwt

    try:
        claims = jwt_issuer().verify(header[7:].strip())
    except pyjwt.PyJWTError as exc:
        raise Unauthorized(f"The access token is not valid: {exc}.",
                           error="invalid_token") from None
    return caller_from_claims(claims)
