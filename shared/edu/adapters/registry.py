"""Builds adapter clients from settings, lazily and once per process (Lambda container).

SDK modules are imported only when a client is first asked for, to keep cold starts low.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from edu.adapters.local_signing import sign_locally_with_placeholders
from edu.config import Settings, get_settings
from edu.secrets import (
    Integrations,
    PublicUrls,
    SigningKeys,
    database_url_from,
    integrations_from,
    signing_keys_from,
    urls_from,
)

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool
    from redis import Redis


class Adapters:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._clients: dict[str, Any] = {}
        self._pg_pool: ConnectionPool | None = None
        self._redis: Redis | None = None
        self._signing: SigningKeys | None = None
        self._integrations: Integrations | None = None
        self._urls: PublicUrls | None = None

    def aws_client(self, service: str) -> Any:
        if service not in self._clients:
            import boto3
            from botocore.config import Config

            client = boto3.client(
                service,  # type: ignore[call-overload]
                region_name=self.settings.region,
                endpoint_url=self.settings.aws_endpoint_url,
                # Fail within the function's time when the service hangs (botocore's
                # defaults wait 60 s per read, with retries).
                config=Config(connect_timeout=2, read_timeout=3,
                              retries={"max_attempts": 2, "mode": "standard"}),
            )
            sign_locally_with_placeholders(client, self.settings.aws_endpoint_url,
                                           self.settings.aws_placeholder_signature)
            self._clients[service] = client
        return self._clients[service]

    def pg_pool(self) -> ConnectionPool:
        """One small pool per worker: Lambda runs one request at a time per container."""
        if self._pg_pool is None:
            from psycopg_pool import ConnectionPool

            self._pg_pool = ConnectionPool(
                self.database_url(), min_size=0, max_size=self.settings.pg_pool_max,
                open=True, timeout=5.0, kwargs={"autocommit": True, "connect_timeout": 2},
                configure=configure_session,
                # a connection broken by a server restart is replaced, not handed out
                check=ConnectionPool.check_connection)
        return self._pg_pool

    def database_url(self) -> str:
        """DATABASE_URL, or for a provisioned database a TLS URL to its proxy built from the
        credentials RDS keeps (and rotates) in Secrets Manager."""
        s = self.settings
        if not s.database_secret_id:
            return s.database_url
        return database_url_from(s, self.secret_text(s.database_secret_id))

    def redis(self) -> Redis:
        if self._redis is None:
            from redis import Redis

            self._redis = Redis.from_url(self.settings.redis_url, socket_timeout=1.0,
                                         socket_connect_timeout=1.0)
        return self._redis

    def secret_text(self, secret_id: str) -> str:
        value = self.aws_client("secretsmanager").get_secret_value(SecretId=secret_id)
        return str(value["SecretString"])

    def put_secret_text(self, secret_id: str, value: str) -> None:
        self.aws_client("secretsmanager").put_secret_value(SecretId=secret_id, SecretString=value)

    def signing_keys(self) -> SigningKeys:
        """Cursor and playback keys, from the stack's signing secret on first use (once per
        container; each secret is read only by the functions that need it)."""
        if self._signing is None:
            self._signing = signing_keys_from(
                self.settings, self._secret_if_named(self.settings.signing_secret_id))
        return self._signing

    def integrations(self) -> Integrations:
        """Stripe and Meilisearch credentials, from the integrations secret on first use."""
        if self._integrations is None:
            self._integrations = integrations_from(
                self.settings, self._secret_if_named(self.settings.integrations_secret_id))
        return self._integrations

    def _secret_if_named(self, secret_id: str) -> str | None:
        """The secret's text; None where no secret is configured (local tools, tests)."""
        return self.secret_text(secret_id) if secret_id else None

    def public_urls(self) -> PublicUrls:
        """The token issuer and the API's URL, from the stack's SSM parameter on first use."""
        if self._urls is None:
            name = self.settings.public_urls_parameter
            value = (self.aws_client("ssm").get_parameter(Name=name)["Parameter"]["Value"]
                     if name else None)
            self._urls = urls_from(self.settings, value)
        return self._urls

    def close(self) -> None:
        if self._pg_pool is not None:
            self._pg_pool.close()
            self._pg_pool = None
        if self._redis is not None:
            self._redis.close()
            self._redis = None


def configure_session(conn: Any) -> None:
    # SSD-backed storage (RDS gp3, local disks): random reads cost about as much as
    # sequential ones. With the default 4.0 the planner picked parallel sequential scans
    # over the search indexes at 100K courses (178 ms instead of 11 ms; docs/benchmarks/journal.md).
    conn.execute("SET random_page_cost = 1.1")


@lru_cache(maxsize=1)
def get_adapters() -> Adapters:
    return Adapters(get_settings())
