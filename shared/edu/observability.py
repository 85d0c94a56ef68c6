"""Structured JSON logging with correlation ids (Powertools Logger), created on first use,
and business counters as CloudWatch Embedded Metric Format (Powertools Metrics).

`bind()` runs for every request (cheap: no import); the Logger is only built when code first
logs, and then carries the current request's ids. That keeps Powertools' import (~40 ms)
out of cold starts of functions that never log.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger

_current: dict[str, str] = {}
_created = False


def bind(*, request_id: str, correlation_id: str | None = None) -> None:
    """The ids every log line of this invocation carries."""
    _current["request_id"] = request_id
    _current["correlation_id"] = correlation_id or request_id
    if _created:
        get_logger().append_keys(**_current)


@lru_cache(maxsize=1)
def get_logger() -> Logger:
    global _created
    from aws_lambda_powertools import Logger

    logger = Logger(service="eduplatform")
    logger.append_keys(**_current)
    _created = True
    return logger


NAMESPACE = "EduPlatform"


def count(metric: str, value: float = 1.0) -> None:
    """A business counter (registrations, enrollments, payments, transcode jobs), printed as
    one EMF line: CloudWatch turns it into a metric on AWS; the local runtime's /metrics
    exposes it as `app_<metric>`. Imported on first use (~100 ms), like the logger."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    with single_metric(name=metric, unit=MetricUnit.Count, value=value, namespace=NAMESPACE):
        pass
