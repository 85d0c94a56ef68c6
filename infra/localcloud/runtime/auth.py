"""HTTP API authorizers, as API Gateway runs them: JWT (issuer's JWKS) and Lambda REQUEST.

JWT: the token from the identity source is verified (signature by `kid` from the issuer's
JWKS found through /.well-known/openid-configuration, iss, aud, exp, nbf); claims land in
requestContext.authorizer.jwt.claims as strings. Lambda: the authorizer function is invoked
with the 2.0 (or 1.0) authorizer event; its simple or IAM-policy answer decides.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import jwt

from localcloud.bounded import NewestKept

if TYPE_CHECKING:
    from localcloud.runtime.pool import FunctionPools

JWKS_TTL_S = 300.0
# Least time between two fetches of one issuer's keys that a failure or an unknown `kid`
# may start: a token with a made-up kid must not make every request fetch the JWKS.
JWKS_RETRY_S = 5.0
_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]
# Tokens verified once are remembered (a client sends the same token with every request
# until it expires): at most this many, the oldest forgotten first.
VERIFIED_TOKENS_MAX = 10_000


@dataclass
class AuthDecision:
    allowed: bool
    status: int = 200                 # 401 / 403 / 500 when not allowed
    message: str = ""
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)  # goes to requestContext.authorizer


def _deny(status: int, message: str, www: str | None = None) -> AuthDecision:
    headers = [(b"www-authenticate", www.encode())] if www else []
    return AuthDecision(False, status, message, headers)


def identity_values(sources: list[str], headers: dict[str, str], query: dict[str, str]
                    ) -> list[str] | None:
    """Values of `$request.header.X` / `$request.querystring.Y` (HTTP APIs' syntax; WebSocket
    APIs write `route.request.header.X`); None if any is missing."""
    values = []
    for src in sources:
        src = src.strip()
        if src.startswith("route.request."):
            src = "$request." + src.removeprefix("route.request.")
        if src.startswith("$request.header."):
            value = headers.get(src.removeprefix("$request.header.").lower())
        elif src.startswith("$request.querystring."):
            value = query.get(src.removeprefix("$request.querystring."))
        else:
            value = None
        if not value:
            return None
        values.append(value)
    return values


class JwksCache:
    """The issuers' signing keys. One fetch per issuer at a time, shared by every request
    that needs it; expired keys keep answering while a refresh runs in the background, and
    after it failed. A fetch per request when the keys expire would, under load, go through
    the busy gateway, time out, and refuse valid tokens with 401s."""

    def __init__(self, ttl_s: float = JWKS_TTL_S, retry_s: float = JWKS_RETRY_S) -> None:
        self.ttl_s = ttl_s
        self.retry_s = retry_s
        self._keys: dict[str, tuple[float, dict[str, jwt.PyJWK]]] = {}
        self._tried: dict[str, float] = {}
        self._fetching: dict[str, asyncio.Future[tuple[float, dict[str, jwt.PyJWK]]]] = {}

    async def key(self, issuer: str, kid: str | None) -> jwt.PyJWK | None:
        cached = self._keys.get(issuer)
        if cached is None:
            cached = await self._refresh(issuer)
        elif kid and kid not in cached[1] and self._may_try(issuer):
            # a new signing key (rotation): the token waits for the fresh keys
            with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
                cached = await self._refresh(issuer)
        elif time.monotonic() - cached[0] > self.ttl_s and self._may_try(issuer):
            self._refresh_later(issuer)
        keys = cached[1]
        if kid:
            return keys.get(kid)
        return next(iter(keys.values()), None) if len(keys) == 1 else None

    def _may_try(self, issuer: str) -> bool:
        return issuer in self._fetching or \
            time.monotonic() - self._tried.get(issuer, float("-inf")) >= self.retry_s

    def _refresh_later(self, issuer: str) -> None:
        if issuer in self._fetching:
            return
        task = asyncio.ensure_future(self._refresh(issuer))
        task.add_done_callback(lambda done: done.cancelled() or done.exception())

    async def _refresh(self, issuer: str) -> tuple[float, dict[str, jwt.PyJWK]]:
        fetching = self._fetching.get(issuer)
        if fetching is None:
            self._tried[issuer] = time.monotonic()
            fetching = asyncio.ensure_future(self._fetch_and_keep(issuer))
            self._fetching[issuer] = fetching
            fetching.add_done_callback(lambda _done: self._fetching.pop(issuer, None))
        return await asyncio.shield(fetching)  # one waiter cancelled does not cancel the rest

    async def _fetch_and_keep(self, issuer: str) -> tuple[float, dict[str, jwt.PyJWK]]:
        entry = (time.monotonic(), await self._fetch(issuer))
        self._keys[issuer] = entry
        return entry

    async def _fetch(self, issuer: str) -> dict[str, jwt.PyJWK]:
        async with httpx.AsyncClient(timeout=5.0) as client:
            conf = (await client.get(issuer.rstrip("/") + "/.well-known/openid-configuration"))
            conf.raise_for_status()
            jwks = (await client.get(conf.json()["jwks_uri"])).json()
        out = {}
        for k in jwks.get("keys", []):
            try:
                out[str(k.get("kid", ""))] = jwt.PyJWK(k)
            except jwt.PyJWTError:
                continue
        return out


@dataclass(frozen=True)
class VerifiedToken:
    kid: str | None
    key: jwt.PyJWK  # the JWKS key that verified it: a token outlives its key in no cache
    claims: dict[str, Any]

    def current(self, now: float) -> bool:
        """Still within exp (and past nbf), as jwt.decode checks them (no leeway)."""
        exp, nbf = self.claims.get("exp"), self.claims.get("nbf")
        return isinstance(exp, int | float) and now < exp and \
            (not isinstance(nbf, int | float) or now >= nbf)


def _stringify(value: Any) -> str:
    # API Gateway hands claims to the integration as strings; arrays as "[a b]".
    if isinstance(value, list):
        return "[" + " ".join(str(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


class Authorizers:
    def __init__(self, config: dict[str, Any], runtime: FunctionPools,
                 function_by_arn: dict[str, str]) -> None:
        self.config = config.get("Authorizers") or {}
        self.default = config.get("DefaultAuthorizer")
        self.runtime = runtime
        self.function_by_arn = function_by_arn
        self.jwks = JwksCache()
        # Tokens whose signature and claims checked out, by (issuer, audience, token): a
        # signature (an RSA verify, the largest part of an authorized request's cost here)
        # is checked once per token, not per request. A hit must still be within its
        # exp/nbf and its key still the issuer's (the same JWKS key object).
        self.verified = NewestKept[tuple[str, tuple[str, ...], str], VerifiedToken](
            VERIFIED_TOKENS_MAX)
        self._cache: dict[tuple[str, tuple[str, ...]], tuple[float, AuthDecision]] = {}

    def for_route(self, event_auth: dict[str, Any] | None) -> tuple[str | None, list[str]]:
        name = (event_auth or {}).get("Authorizer", self.default)
        scopes = list((event_auth or {}).get("AuthorizationScopes") or [])
        if name in (None, "NONE"):
            return None, []
        return str(name), scopes

    async def authorize(self, name: str, scopes: list[str], headers: dict[str, str],
                        query: dict[str, str], event: dict[str, Any]) -> AuthDecision:
        spec = self.config.get(name)
        if spec is None:
            return _deny(500, "Internal Server Error")
        if "JwtConfiguration" in spec:
            return await self._jwt(spec, scopes, headers, query)
        return await self._lambda(name, spec, headers, query, event)

    async def _jwt(self, spec: dict[str, Any], scopes: list[str], headers: dict[str, str],
                   query: dict[str, str]) -> AuthDecision:
        source = spec.get("IdentitySource", "$request.header.Authorization")
        values = identity_values([source], headers, query)
        if values is None:
            return _deny(401, "Unauthorized", "Bearer")
        token = values[0]
        if token.lower().startswith("bearer "):
            token = token[7:].strip()
        cfg = spec["JwtConfiguration"]
        issuer = str(cfg.get("issuer") or cfg.get("Issuer") or "")
        audience = [str(a) for a in (cfg.get("audience") or cfg.get("Audience") or [])]
        invalid = 'Bearer error="invalid_token"'
        cache_key = (issuer, tuple(audience), token)
        known = self.verified.get(cache_key)
        try:
            if known is not None and known.current(time.time()) and \
                    await self.jwks.key(issuer, known.kid) is known.key:
                claims = known.claims
            else:
                self.verified.pop(cache_key, None)
                claims = await self._verify(token, issuer, audience, cache_key)
        except (jwt.PyJWTError, httpx.HTTPError, ValueError, KeyError) as exc:
            return _deny(401, "Unauthorized",
                         f'{invalid}, error_description="{_quote(str(exc))}"')
        granted = set(str(claims.get("scope", "")).split()) | set(claims.get("scp", []) or [])
        if scopes and not set(scopes) & granted:
            return _deny(403, "Forbidden",
                         'Bearer error="insufficient_scope"')
        context: dict[str, Any] = {"jwt": {"claims": {k: _stringify(v) for k, v in
                                                      claims.items()},
                                           "scopes": sorted(granted) or None}}
        return AuthDecision(True, context=context)

    async def _verify(self, token: str, issuer: str, audience: list[str],
                      cache_key: tuple[str, tuple[str, ...], str]) -> dict[str, Any]:
        header = jwt.get_unverified_header(token)
        if header.get("alg") not in _ALGORITHMS:
            raise jwt.InvalidAlgorithmError(f"algorithm {header.get('alg')} not allowed")
        kid = header.get("kid")
        key = await self.jwks.key(issuer, kid)
        if key is None:
            raise jwt.InvalidKeyError("no matching key in the issuer's JWKS")
        claims: dict[str, Any] = jwt.decode(
            token, key=key, algorithms=_ALGORITHMS, audience=audience or None, issuer=issuer,
            options={"require": ["exp", "iss"]})
        self.verified[cache_key] = VerifiedToken(kid, key, claims)
        return claims

    async def _lambda(self, name: str, spec: dict[str, Any], headers: dict[str, str],
                      query: dict[str, str], event: dict[str, Any]) -> AuthDecision:
        identity = spec.get("Identity") or {}
        sources = [f"$request.header.{h}" for h in identity.get("Headers") or []] + [
            f"$request.querystring.{q}" for q in identity.get("QueryStrings") or []]
        values = identity_values(sources, headers, query) if sources else []
        if values is None:
            return _deny(401, "Unauthorized")
        ttl = float(identity.get("ReauthorizeEvery", 0) or 0)
        cache_key = (name, tuple(values))
        if ttl and sources:
            hit = self._cache.get(cache_key)
            if hit and time.monotonic() - hit[0] < ttl:
                return hit[1]
        arn = str(spec.get("FunctionArn", ""))
        function = self.function_by_arn.get(arn)
        if function is None:
            return _deny(500, "Internal Server Error")
        version = str(spec.get("AuthorizerPayloadFormatVersion", "2.0"))
        auth_event = dict(event)
        auth_event["type"] = "REQUEST"
        auth_event["routeArn"] = (f"arn:aws:execute-api:us-east-1:123456789012:local/$default/"
                                  f"{event['requestContext']['http']['method']}"
                                  f"{event['rawPath']}")
        auth_event["identitySource"] = values
        result = await self.runtime.invoke(function, auth_event)
        decision = self._read_answer(result.payload if result.ok else None, version,
                                     bool(spec.get("EnableSimpleResponses")))
        if ttl and sources and decision.status != 500:
            self._cache[cache_key] = (time.monotonic(), decision)
        return decision

    @staticmethod
    def _read_answer(payload: Any, version: str, simple: bool) -> AuthDecision:
        if not isinstance(payload, dict):
            return _deny(500, "Internal Server Error")
        if simple and version == "2.0":
            if payload.get("isAuthorized") is True:
                return AuthDecision(True, context={"lambda": payload.get("context") or {}})
            return _deny(403, "Forbidden")
        if policy_allows(payload):
            ctx = {"lambda": payload.get("context") or {},
                   "principalId": payload.get("principalId")}
            return AuthDecision(True, context=ctx)
        return _deny(403, "Forbidden")


def policy_allows(answer: dict[str, Any]) -> bool:
    """Whether a Lambda authorizer's IAM policy answer allows the call: an Allow statement
    and no Deny (the resource is the call being authorized)."""
    statements = (answer.get("policyDocument") or {}).get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    effects = {str(s.get("Effect", "")).lower() for s in statements if isinstance(s, dict)}
    return "allow" in effects and "deny" not in effects


def _quote(text: str) -> str:
    return text.replace('"', "'")[:200]
