"""Typed settings, read once per process (cold start) and validated loudly."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    stage: Literal["local", "test", "dev", "staging", "prod"] = Field(
        "local", validation_alias="EDU_STAGE")
    region: str = Field("us-east-1", validation_alias="AWS_DEFAULT_REGION")
    # Set locally (moto/LocalStack); unset on AWS so SDKs use the real endpoints.
    aws_endpoint_url: str | None = Field(None, validation_alias="AWS_ENDPOINT_URL")
    database_url: str = Field("postgresql://postgres@127.0.0.1:5433/edu",
                              validation_alias="DATABASE_URL")
    redis_url: str = Field("redis://127.0.0.1:6380/0", validation_alias="REDIS_URL")
    event_bus_name: str = Field("edu-platform-events", validation_alias="EDU_EVENT_BUS_NAME")
    users_table: str = Field("edu-platform-users", validation_alias="EDU_USERS_TABLE")
    raw_video_bucket: str = Field("edu-platform-raw-video-123456789012",
                                  validation_alias="EDU_RAW_VIDEO_BUCKET")
    media_bucket: str = Field("edu-platform-media-123456789012",
                              validation_alias="EDU_MEDIA_BUCKET")
    max_body_bytes: int = Field(64 * 1024, validation_alias="EDU_MAX_BODY_BYTES")
    pg_pool_max: int = Field(2, ge=1, validation_alias="EDU_PG_POOL_MAX")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
