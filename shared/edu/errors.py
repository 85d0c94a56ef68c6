"""The one error hierarchy. Each error knows its HTTP status; `edu.problems` renders it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class EduError(Exception):
    status = 500
    title = "Internal Server Error"
    type_slug = "internal"

    def __init__(self, detail: str = "", *, headers: dict[str, str] | None = None,
                 extensions: dict[str, object] | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.headers = dict(headers or {})
        # RFC 9457 extension members, e.g. the existing resource of a 409.
        self.extensions = dict(extensions or {})


class BadRequest(EduError):
    status, title, type_slug = 400, "Bad Request", "bad-request"


class ValidationFailed(EduError):
    status, title, type_slug = 422, "Validation Failed", "validation"

    def __init__(self, detail: str = "The request is not valid.",
                 errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.errors = list(errors or [])


class Unauthorized(EduError):
    status, title, type_slug = 401, "Unauthorized", "unauthorized"

    def __init__(self, detail: str = "Authentication is required.", *,
                 error: str | None = None) -> None:
        challenge = 'Bearer error="' + error + '"' if error else "Bearer"
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


class Forbidden(EduError):
    status, title, type_slug = 403, "Forbidden", "forbidden"


class NotFound(EduError):
    status, title, type_slug = 404, "Not Found", "not-found"


class Conflict(EduError):
    status, title, type_slug = 409, "Conflict", "conflict"


class PreconditionFailed(EduError):
    status, title, type_slug = 412, "Precondition Failed", "precondition-failed"


class PayloadTooLarge(EduError):
    status, title, type_slug = 413, "Payload Too Large", "payload-too-large"


class UnsupportedMediaType(EduError):
    status, title, type_slug = 415, "Unsupported Media Type", "unsupported-media-type"


class RateLimited(EduError):
    status, title, type_slug = 429, "Too Many Requests", "rate-limited"

    def __init__(self, detail: str = "Too many requests.", *, retry_after: int = 1) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})


class DependencyUnavailable(EduError):
    status, title, type_slug = 503, "Service Unavailable", "dependency-unavailable"

    def __init__(self, detail: str = "A dependency is unavailable.", *,
                 retry_after: int = 5) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})


# Exceptions that mean "a store or service we depend on did not answer", by qualified class
# name so this module imports no SDK. Anything else unexpected stays a 500.
OUTAGE_CLASSES = {
    "psycopg.OperationalError": "PostgreSQL",
    "psycopg_pool.PoolTimeout": "PostgreSQL",
    "redis.exceptions.ConnectionError": "Redis",
    "redis.exceptions.TimeoutError": "Redis",
    "botocore.exceptions.EndpointConnectionError": "AWS",
    "botocore.exceptions.ConnectTimeoutError": "AWS",
    "botocore.exceptions.ReadTimeoutError": "AWS",
    "botocore.exceptions.ConnectionClosedError": "AWS",
    "urllib3.exceptions.ProtocolError": "AWS",
    "pynamodb.exceptions.PynamoDBConnectionError": "DynamoDB",
}


def outage(exc: BaseException) -> str | None:
    """Which dependency `exc` (or what caused it) says is unreachable, if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        for cls in type(current).__mro__:
            name = OUTAGE_CLASSES.get(f"{cls.__module__}.{cls.__qualname__}")
            if name:
                return name
        current = current.__cause__ or current.__context__
    return None
