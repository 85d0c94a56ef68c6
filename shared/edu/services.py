"""Composition root: domain services wired to the adapters that configuration selects, one
cached factory per service and per shared store. Built once per process (a Lambda container)
and reused across invocations. The edge's guards (rate limits, optional callers, the request
authorizer) are in edu.guards; SnapStart priming in edu.priming."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

import edu.priming  # noqa: F401  (registers SnapStart priming for every wired handler)
from edu.adapters.registry import Adapters, get_adapters
from edu.courses.service import CourseService
from edu.identity.models import User
from edu.identity.service import IdentityService, Limits
from edu.observability import get_logger
from edu.pagination import CursorCodec

if TYPE_CHECKING:
    from edu.adapters.dynamo_enrollment import DynamoEnrollmentStore
    from edu.adapters.dynamo_identity import DynamoIdentityStore
    from edu.adapters.dynamo_outbox import DynamoOutbox
    from edu.adapters.outbox import OutboxRelay
    from edu.adapters.ratelimit import RedisRateLimiter
    from edu.analytics.service import AnalyticsService
    from edu.apikeys.service import ApiKeyService
    from edu.auth.revocation import SessionRevocations
    from edu.auth.tokens import JwtIssuer
    from edu.config import Settings
    from edu.enrollment.service import EnrollmentService
    from edu.events import Envelope
    from edu.live.classroom import ClassroomService
    from edu.live.ports import Broadcaster
    from edu.live.service import LiveService
    from edu.notifications.service import NotificationService
    from edu.video.service import VideoService
    from edu.webhooks.service import WebhookService


def _counted(message: str, metric: str) -> Callable[[Exception], None]:
    """A degraded-mode callback: logs (and so counts) each occurrence. The logger is only
    built when something goes wrong, keeping Powertools out of the cold start."""

    def report(exc: Exception) -> None:
        get_logger().warning(message, extra={"metric": metric, "error": str(exc)})

    return report


@cache
def jwt_issuer() -> JwtIssuer:
    # Imported here: pyjwt and cryptography are the Auth layer's, which event consumers lack.
    from edu.auth.tokens import JwtIssuer, KeySet

    adapters = get_adapters()
    settings = adapters.settings
    keys = KeySet.from_json(adapters.secret_text(settings.jwt_keys_secret_id))
    return JwtIssuer(keys, adapters.public_urls().issuer, settings.jwt_audience,
                     settings.access_token_ttl_s)


def apply_migrations() -> list[str]:
    """The schema's pending migrations, applied to the stack's database (on deploy)."""
    from edu.adapters.migrations import migrate

    return migrate(get_adapters().database_url())


def ensure_signing_key(secret_id: str) -> bool:
    """Gives an empty JWT key secret its first key (a new deployment); True when it did."""
    import json

    from edu.auth.tokens import first_keyset

    adapters = get_adapters()
    keyset = first_keyset(json.loads(adapters.secret_text(secret_id) or "{}"))
    if keyset is not None:
        adapters.put_secret_text(secret_id, json.dumps(keyset))
    return keyset is not None


class _LazyTokens:
    """Fetches the signing keys on first use: /me and friends never sign, so they skip the
    Secrets Manager call at cold start."""

    def issue(self, user: User, family_id: str) -> tuple[str, int]:
        return jwt_issuer().issue(user, family_id)


class _LazyPublisher:
    """The event bus, its AWS client made on first publish: a course write's relay usually
    finds nothing left to publish, and the sweep often too, so their cold starts skip
    creating a client they may never use."""

    def __init__(self, adapters: Adapters) -> None:
        self.adapters = adapters

    def publish(self, events: list[Envelope]) -> None:
        from edu.adapters.eventbridge import EventBridgePublisher

        EventBridgePublisher(self.adapters.aws_client("events"),
                             self.adapters.settings.event_bus_name).publish(events)


def dynamo_outbox(adapters: Adapters) -> DynamoOutbox:
    from edu.adapters.dynamo_outbox import DynamoOutbox

    s = adapters.settings
    return DynamoOutbox(s.outbox_table, s.aws_endpoint_url, s.region,
                        _LazyPublisher(adapters), warn=_warn)


def _warn(message: str, extra: dict[str, Any]) -> None:
    get_logger().warning(message, extra=extra)


def relay_outboxes(limit: int = 100) -> dict[str, int]:
    """The scheduled sweep behind the relays: PostgreSQL outbox rows each request's flush
    missed, and DynamoDB outbox items the stream relay has left for minutes."""
    adapters = get_adapters()
    return {"postgresql": outbox_relay().relay(limit=limit),
            adapters.settings.outbox_table: dynamo_outbox(adapters).sweep(limit=limit)}


@cache
def rate_limiter() -> RedisRateLimiter:
    from edu.adapters.ratelimit import RedisRateLimiter

    return RedisRateLimiter(get_adapters().redis(), on_unavailable=_counted(
        "rate limiter unavailable: failing open", "ratelimit_unavailable"))


@cache
def identity_store() -> DynamoIdentityStore:
    """Users, email guards and refresh-token families (the users table)."""
    from edu.adapters.dynamo_identity import DynamoIdentityStore

    s = get_adapters().settings
    return DynamoIdentityStore(s.users_table, s.aws_endpoint_url, s.region, s.outbox_table)


@cache
def api_key_service() -> ApiKeyService:
    from edu.adapters.dynamo_api_keys import DynamoApiKeyStore
    from edu.apikeys.service import ApiKeyService

    s = get_adapters().settings
    return ApiKeyService(DynamoApiKeyStore(s.users_table, s.aws_endpoint_url, s.region),
                         identity_store())


@cache
def identity_service() -> IdentityService:
    from edu.adapters.passwords import Argon2Hasher
    from edu.auth.revocation import RevokingFamilies

    s = get_adapters().settings
    store = identity_store()
    return IdentityService(
        users=store, families=RevokingFamilies(store, session_revocations()),
        limiter=rate_limiter(),
        hasher=Argon2Hasher(s.argon2_memory_kib, s.argon2_time_cost, s.argon2_parallelism),
        tokens=_LazyTokens(),
        limits=Limits(login_per_ip=s.login_limit_per_ip,
                      login_per_email=s.login_limit_per_email,
                      register_per_ip=s.register_limit_per_ip, window_s=s.rate_window_s,
                      refresh_ttl_s=s.refresh_token_ttl_s,
                      refresh_reuse_grace_s=s.refresh_reuse_grace_s))


def refresh_ttl_s() -> int:
    """How long a refresh token (and its session cookie) lives."""
    return get_adapters().settings.refresh_token_ttl_s


@cache
def session_revocations() -> SessionRevocations:
    from edu.auth.revocation import SessionRevocations

    adapters = get_adapters()
    return SessionRevocations(adapters.redis(), adapters.settings.access_token_ttl_s,
                              on_unavailable=_counted("session revocations unavailable: "
                                                      "failing open", "revocation_unavailable"))


@cache
def course_service() -> CourseService:
    return build_course_service(get_adapters())


def build_course_service(adapters: Adapters) -> CourseService:
    from edu.adapters.pg_courses import PgCourseRepository
    from edu.adapters.redis_cache import RedisCache

    s = adapters.settings
    def degraded(message: str) -> None:
        get_logger().warning(message, extra={"metric": "search_degraded"})

    def fallback(why: str) -> None:
        get_logger().warning("search served by PostgreSQL", extra={
            "metric": "search_fallback", "reason": why})

    index = None
    if s.meili_url:
        from edu.adapters.meili_search import MeiliCourseIndex

        index = MeiliCourseIndex(s.meili_url, adapters.integrations().meili_api_key or None,
                                 s.meili_index)
    return CourseService(
        PgCourseRepository(adapters.pg_pool(), on_degraded=degraded),
        RedisCache(adapters.redis(), ttl_s=s.cache_ttl_s, on_unavailable=_counted(
            "cache unavailable: serving from PostgreSQL", "cache_unavailable")),
        CursorCodec(adapters.signing_keys().cursor_secret),
        ranked_search=s.search_mode == "ranked", index=index, on_search_fallback=fallback,
        enrolled=_enrollment_check(s))


def _enrollment_store(s: Settings) -> DynamoEnrollmentStore:
    """The enrollments table's store (the DynamoDB adapter imported when first built)."""
    from edu.adapters.dynamo_enrollment import DynamoEnrollmentStore

    return DynamoEnrollmentStore(s.enrollments_table, s.aws_endpoint_url, s.region,
                                 s.outbox_table)


@cache
def enrollment_store() -> DynamoEnrollmentStore:
    return _enrollment_store(get_adapters().settings)


def _enrollment_check(s: Settings) -> Callable[[str, str], bool]:
    """Whether a student's enrollment is active; the store is built on the first call (only
    the syllabus asks, and only for signed-in callers)."""
    @cache
    def store() -> DynamoEnrollmentStore:
        return _enrollment_store(s)

    def enrolled(user_id: str, course_id: str) -> bool:
        found = store().get_enrollment(user_id, course_id)
        return found is not None and found.status == "active"
    return enrolled


@cache
def enrollment_service() -> EnrollmentService:
    from edu.adapters.pg_courses import PgCourseFacts
    from edu.enrollment.service import EnrollmentService

    adapters = get_adapters()
    return EnrollmentService(
        enrollment_store(), PgCourseFacts(adapters.pg_pool()),
        _stripe_gateway(adapters), CursorCodec(adapters.signing_keys().cursor_secret),
        log=_warn)


def _stripe_gateway(adapters: Adapters) -> Any:
    from edu.adapters.stripe_gateway import StripeGateway

    keys = adapters.integrations()
    return StripeGateway(keys.stripe_secret_key, keys.stripe_webhook_secret,
                         adapters.settings.stripe_api_base or None)


@cache
def outbox_relay() -> OutboxRelay:
    from edu.adapters.outbox import OutboxRelay

    adapters = get_adapters()
    return OutboxRelay(adapters.pg_pool(), _LazyPublisher(adapters))


def flush_outbox() -> None:
    """After a committed write: publish its events now; the scheduled relay retries what
    fails here, so a failure is logged, never raised to the caller."""
    try:
        outbox_relay().relay(limit=20)
    except Exception as exc:
        get_logger().warning("outbox flush failed; the scheduled relay will retry",
                             extra={"metric": "outbox_flush_failed", "error": str(exc)})


@cache
def notification_service() -> NotificationService:
    from edu.adapters.dynamo_identity import IdentityDirectory
    from edu.adapters.pg_analytics import PgCourseRoster
    from edu.adapters.ses_mailer import SesMailer
    from edu.notifications.service import NotificationService

    adapters = get_adapters()
    s = adapters.settings
    return NotificationService(IdentityDirectory(identity_store()),
                               SesMailer(adapters.aws_client("ses"), s.mail_from),
                               base_url=adapters.public_urls().api_url,
                               roster=PgCourseRoster(adapters.pg_pool))


@cache
def video_service() -> VideoService:
    return build_video_service(get_adapters())


def build_video_service(adapters: Adapters) -> VideoService:
    from edu.adapters.dynamo_video import DynamoVideoStore
    from edu.adapters.ffmpeg import FfmpegTranscoder
    from edu.adapters.pg_courses import PgLessonFacts
    from edu.adapters.s3_media import S3MediaStorage
    from edu.video.service import PlaybackSigner, VideoLimits, VideoService

    s = adapters.settings
    return VideoService(
        PgLessonFacts(adapters.pg_pool()), _enrollment_store(s),
        DynamoVideoStore(s.videos_table, s.aws_endpoint_url, s.region, s.outbox_table),
        S3MediaStorage(adapters.aws_client("s3"), s.raw_video_bucket, s.media_bucket),
        FfmpegTranscoder(),
        PlaybackSigner(adapters.signing_keys().playback_secret),
        VideoLimits(max_upload_bytes=s.max_upload_bytes, upload_ttl_s=s.upload_url_ttl_s,
                    playback_ttl_s=s.playback_ttl_s, max_attempts=s.transcode_max_attempts,
                    retry_delay_s=s.transcode_retry_delay_s),
        base_url=adapters.public_urls().api_url)


@cache
def analytics_service() -> AnalyticsService:
    from edu.adapters.pg_analytics import PgAnalyticsStore
    from edu.analytics.service import AnalyticsService

    return AnalyticsService(PgAnalyticsStore(get_adapters().pg_pool()))


@cache
def live_service() -> LiveService:
    from edu.adapters.pg_live import PgLiveSessionStore
    from edu.live.service import LiveService

    return LiveService(PgLiveSessionStore(get_adapters().pg_pool()))


@cache
def classroom_service() -> ClassroomService:
    from edu.adapters.dynamo_rooms import DynamoRoomStore
    from edu.adapters.pg_live import PgLiveSessionStore
    from edu.live.classroom import ClassroomService, RateLimit

    adapters = get_adapters()
    s = adapters.settings
    return ClassroomService(
        PgLiveSessionStore(adapters.pg_pool()), _enrollment_check(s),
        DynamoRoomStore(adapters.aws_client("dynamodb"), s.classroom_table),
        RateLimit(rate_limiter().hit))


def enrolled_course_ids(user_id: str) -> list[str]:
    """The courses a student is actively enrolled in (at most 1,000)."""
    return [e.course_id for e in enrollment_store().list_enrollments(user_id, None, 1000)
            if e.status == "active"]


def room_broadcaster(event: dict[str, Any]) -> Broadcaster:
    """Messages to the WebSocket clients of the API that sent `event` (@connections)."""
    from edu.adapters.ws_connections import ConnectionsBroadcaster, connections_endpoint

    return ConnectionsBroadcaster(connections_endpoint(event))


@cache
def webhook_service() -> WebhookService:
    from edu.adapters.http_webhooks import (
        SqsDeliveryQueue,
        UrllibWebhookSender,
        resolve,
        resolve_offline,
    )
    from edu.adapters.pg_webhooks import PgWebhookStore
    from edu.webhooks.service import WebhookPolicy, WebhookService

    adapters = get_adapters()
    s = adapters.settings
    return WebhookService(
        PgWebhookStore(adapters.pg_pool()), UrllibWebhookSender(),
        SqsDeliveryQueue(adapters.aws_client("sqs"), s.webhook_delivery_queue_url),
        resolve_offline if s.webhook_allow_loopback else resolve,  # no DNS from a laptop
        CursorCodec(adapters.signing_keys().cursor_secret),
        WebhookPolicy(allow_loopback=s.webhook_allow_loopback,
                      max_attempts=s.webhook_max_attempts,
                      retry_base_s=s.webhook_retry_base_s,
                      disable_after=s.webhook_disable_after),
        flush=flush_outbox)
