"""Typed settings, read once per process (cold start) and validated loudly."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    stage: Literal["local", "test", "dev", "staging", "prod"] = Field(
        "local", validation_alias="EDU_STAGE")
    region: str = Field("us-east-1", validation_alias="AWS_DEFAULT_REGION")
    # Set locally (moto/LocalStack); unset on AWS so SDKs use the real endpoints.
    aws_endpoint_url: str | None = Field(None, validation_alias="AWS_ENDPOINT_URL")
    # Calls to an endpoint on this machine skip computing SigV4 (edu.adapters.local_signing).
    aws_placeholder_signature: bool = Field(True,
                                            validation_alias="EDU_AWS_PLACEHOLDER_SIGNATURE")
    database_url: str = Field("postgresql://postgres@127.0.0.1:5433/edu",
                              validation_alias="DATABASE_URL")
    # A deployed stack's database: the secret with its URL or credentials (and for the
    # provisioned one, the RDS Proxy host); when set it replaces database_url
    # (edu.adapters.registry.Adapters.database_url).
    database_host: str = Field("", validation_alias="EDU_DATABASE_HOST")
    database_secret_id: str = Field("", validation_alias="EDU_DATABASE_SECRET_ID")
    database_name: str = Field("edu", validation_alias="EDU_DATABASE_NAME")
    redis_url: str = Field("redis://127.0.0.1:6380/0", validation_alias="REDIS_URL")
    event_bus_name: str = Field("edu-platform-events", validation_alias="EDU_EVENT_BUS_NAME")
    users_table: str = Field("edu-platform-users", validation_alias="EDU_USERS_TABLE")
    enrollments_table: str = Field("edu-platform-enrollments",
                                   validation_alias="EDU_ENROLLMENTS_TABLE")
    classroom_table: str = Field("edu-platform-classroom", validation_alias="EDU_CLASSROOM_TABLE")
    # Events of DynamoDB writes, committed with them; the table's stream relays them.
    outbox_table: str = Field("edu-platform-outbox", validation_alias="EDU_OUTBOX_TABLE")
    mail_from: str = Field("no-reply@eduplatform.dev", validation_alias="EDU_MAIL_FROM")
    idempotency_table: str = Field("edu-platform-idempotency",
                                   validation_alias="EDU_IDEMPOTENCY_TABLE")
    # Where consumers' idempotency records live (edu.adapters.idempotency).
    idempotency_store: Literal["redis", "dynamodb"] = Field(
        "redis", validation_alias="EDU_IDEMPOTENCY_STORE")
    # Where a deployed stack keeps its secrets and public URLs (edu.secrets); the values
    # below stand in for them only where these are empty (local tools, in-process tests).
    signing_secret_id: str = Field("", validation_alias="EDU_SIGNING_SECRET_ID")
    integrations_secret_id: str = Field("", validation_alias="EDU_INTEGRATIONS_SECRET_ID")
    public_urls_parameter: str = Field("", validation_alias="EDU_PUBLIC_URLS_PARAMETER")
    # Stripe: the API base points at the local Stripe-compatible server, or is empty for
    # api.stripe.com; test-mode keys locally, live keys only in production.
    stripe_api_base: str | None = Field(None, validation_alias="EDU_STRIPE_API_BASE")
    stripe_secret_key: str = Field("sk_test_local", validation_alias="EDU_STRIPE_SECRET_KEY")
    stripe_webhook_secret: str = Field("whsec_local",
                                       validation_alias="EDU_STRIPE_WEBHOOK_SECRET")
    raw_video_bucket: str = Field("edu-platform-raw-video-123456789012",
                                  validation_alias="EDU_RAW_VIDEO_BUCKET")
    media_bucket: str = Field("edu-platform-media-123456789012",
                              validation_alias="EDU_MEDIA_BUCKET")
    videos_table: str = Field("edu-platform-videos", validation_alias="EDU_VIDEOS_TABLE")
    # Video uploads go straight to object storage; the limit is in the presigned policy.
    max_upload_bytes: int = Field(2 * 1024**3, ge=1, validation_alias="EDU_MAX_UPLOAD_BYTES")
    upload_url_ttl_s: int = Field(3600, ge=60, validation_alias="EDU_UPLOAD_URL_TTL_S")
    playback_ttl_s: int = Field(3600, ge=60, validation_alias="EDU_PLAYBACK_TTL_S")
    # Signs playlist URLs (a grant to watch one video version until it expires).
    playback_secret: str = Field("local-playback-secret",
                                 validation_alias="EDU_PLAYBACK_SECRET")
    # Failed consumer messages come back after base, 2x base, 4x base ... seconds.
    consumer_retry_base_s: int = Field(10, ge=0, validation_alias="EDU_CONSUMER_RETRY_BASE_S")
    transcode_max_attempts: int = Field(3, ge=1, validation_alias="EDU_TRANSCODE_MAX_ATTEMPTS")
    transcode_retry_delay_s: int = Field(30, ge=0,
                                         validation_alias="EDU_TRANSCODE_RETRY_DELAY_S")
    max_body_bytes: int = Field(64 * 1024, validation_alias="EDU_MAX_BODY_BYTES")
    pg_pool_max: int = Field(2, ge=1, validation_alias="EDU_PG_POOL_MAX")
    event_source_prefix: str = Field("edu", validation_alias="EDU_EVENT_SOURCE_PREFIX")

    # Tokens: RS256 keys live in a Secrets Manager secret; the newest key signs, all verify.
    jwt_issuer: str = Field("http://127.0.0.1:3000", validation_alias="EDU_JWT_ISSUER")
    jwt_audience: str = Field("eduplatform", validation_alias="EDU_JWT_AUDIENCE")
    jwt_keys_secret_id: str = Field("edu-platform/jwt-keys",
                                    validation_alias="EDU_JWT_KEYS_SECRET_ID")
    access_token_ttl_s: int = Field(15 * 60, ge=60, validation_alias="EDU_ACCESS_TOKEN_TTL_S")
    refresh_token_ttl_s: int = Field(30 * 24 * 3600, ge=3600,
                                     validation_alias="EDU_REFRESH_TOKEN_TTL_S")
    # A refresh whose answer was lost (the page navigated away) may be retried this long with
    # the token it spent; a reuse after that ends the sign-in (decisions.md, sessions).
    refresh_reuse_grace_s: int = Field(30, ge=0, le=300,
                                       validation_alias="EDU_REFRESH_REUSE_GRACE_S")

    # Passwords: argon2id at OWASP's minimum profile (m=19 MiB, t=2, p=1); see decisions.md.
    argon2_memory_kib: int = Field(19 * 1024, ge=8 * 1024, validation_alias="EDU_ARGON2_MEMORY_KIB")
    argon2_time_cost: int = Field(2, ge=1, validation_alias="EDU_ARGON2_TIME_COST")
    argon2_parallelism: int = Field(1, ge=1, validation_alias="EDU_ARGON2_PARALLELISM")

    # Signs pagination cursors (not a credential: forging one only moves a page boundary).
    cursor_secret: str = Field("local-cursor-secret", validation_alias="EDU_CURSOR_SECRET")
    search_mode: Literal["naive", "ranked"] = Field("ranked", validation_alias="EDU_SEARCH_MODE")
    # Meilisearch (optional): fed by the indexer, used by GET /search while it answers.
    meili_url: str = Field("", validation_alias="MEILI_URL")
    meili_api_key: str = Field("", validation_alias="MEILI_API_KEY")
    meili_index: str = Field("courses", validation_alias="EDU_MEILI_INDEX")
    cache_ttl_s: int = Field(300, ge=1, validation_alias="EDU_CACHE_TTL_S")

    # Rate limits (sliding window, per minute).
    login_limit_per_ip: int = Field(30, ge=1, validation_alias="EDU_LOGIN_LIMIT_PER_IP")
    login_limit_per_email: int = Field(10, ge=1, validation_alias="EDU_LOGIN_LIMIT_PER_EMAIL")
    register_limit_per_ip: int = Field(20, ge=1, validation_alias="EDU_REGISTER_LIMIT_PER_IP")
    search_limit_per_ip: int = Field(300, ge=1, validation_alias="EDU_SEARCH_LIMIT_PER_IP")
    write_limit_per_user: int = Field(120, ge=1, validation_alias="EDU_WRITE_LIMIT_PER_USER")
    api_key_limit_per_minute: int = Field(120, ge=1,
                                          validation_alias="EDU_API_KEY_LIMIT_PER_MINUTE")
    rate_window_s: int = Field(60, ge=1, validation_alias="EDU_RATE_WINDOW_S")

    # Outbound webhooks.
    webhook_delivery_queue_url: str = Field("", validation_alias="EDU_WEBHOOK_DELIVERY_QUEUE_URL")
    webhook_allow_loopback: bool = Field(False, validation_alias="EDU_WEBHOOK_ALLOW_LOOPBACK")
    webhook_max_attempts: int = Field(7, ge=1, validation_alias="EDU_WEBHOOK_MAX_ATTEMPTS")
    webhook_retry_base_s: int = Field(60, ge=0, validation_alias="EDU_WEBHOOK_RETRY_BASE_S")
    webhook_disable_after: int = Field(20, ge=1, validation_alias="EDU_WEBHOOK_DISABLE_AFTER")

    @model_validator(mode="after")
    def _deployed_stages_read_secrets_from_the_stack(self) -> Settings:
        """Outside the local and test stages, secrets and URLs come from the stack's Secrets
        Manager secrets and SSM parameter, never from defaults or plain variables."""
        if self.stage in ("local", "test"):
            return self
        missing = [name for name in ("signing_secret_id", "integrations_secret_id",
                                     "public_urls_parameter", "jwt_keys_secret_id",
                                     "database_secret_id")
                   if not getattr(self, name)]
        if missing:
            raise ValueError(f"stage {self.stage!r} needs {', '.join(missing)} (set by "
                             "template.yaml): its secrets are not taken from defaults")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
