"""Composition root: domain services wired to the adapters that configuration selects.

Built once per process (a Lambda container) and reused across invocations.
"""

from __future__ import annotations

from functools import cache

from edu.adapters.registry import get_adapters
from edu.auth.tokens import JwtIssuer, KeySet
from edu.identity.models import User
from edu.identity.service import IdentityService, Limits
from edu.observability import get_logger


@cache
def jwt_issuer() -> JwtIssuer:
    adapters = get_adapters()
    settings = adapters.settings
    keys = KeySet.from_json(adapters.secret_text(settings.jwt_keys_secret_id))
    return JwtIssuer(keys, settings.jwt_issuer, settings.jwt_audience,
                     settings.access_token_ttl_s)


class _LazyTokens:
    """Fetches the signing keys on first use: /me and friends never sign, so they skip the
    Secrets Manager call at cold start."""

    def issue(self, user: User, family_id: str) -> tuple[str, int]:
        return jwt_issuer().issue(user, family_id)


@cache
def identity_service() -> IdentityService:
    from edu.adapters.dynamo_identity import DynamoIdentityStore
    from edu.adapters.eventbridge import EventBridgePublisher
    from edu.adapters.passwords import Argon2Hasher
    from edu.adapters.ratelimit import RedisRateLimiter

    adapters = get_adapters()
    s = adapters.settings
    store = DynamoIdentityStore(s.users_table, s.aws_endpoint_url, s.region)
    logger = get_logger()

    def limiter_down(exc: Exception) -> None:
        logger.warning("rate limiter unavailable: failing open",
                       extra={"metric": "ratelimit_unavailable", "error": str(exc)})

    def publish_failed(exc: Exception) -> None:
        logger.error("event not published after a committed write",
                     extra={"metric": "event_publish_failed", "error": str(exc)})

    return IdentityService(
        users=store, families=store,
        limiter=RedisRateLimiter(adapters.redis(), on_unavailable=limiter_down),
        hasher=Argon2Hasher(s.argon2_memory_kib, s.argon2_time_cost, s.argon2_parallelism),
        tokens=_LazyTokens(),
        events=EventBridgePublisher(adapters.aws_client("events"), s.event_bus_name),
        limits=Limits(login_per_ip=s.login_limit_per_ip,
                      login_per_email=s.login_limit_per_email,
                      register_per_ip=s.register_limit_per_ip, window_s=s.rate_window_s,
                      refresh_ttl_s=s.refresh_token_ttl_s),
        on_publish_failure=publish_failed)
