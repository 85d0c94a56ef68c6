"""Per-function metrics: Prometheus exposition and the `edu local report` table."""

from __future__ import annotations

import functools
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from localcloud.runtime.pool import FunctionPool, InvokeResult, Runtime
from localcloud.template import Function

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


@dataclass
class FunctionStats:
    invocations: int = 0
    errors: int = 0
    throttles: int = 0
    timeouts: int = 0
    cold_starts: int = 0
    init_ms_total: float = 0.0
    durations_ms: deque[float] = field(default_factory=lambda: deque(maxlen=10_000))

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.durations_ms)

        def pct(p: float) -> float | None:
            if not ordered:
                return None
            return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 3)

        return {
            "invocations": self.invocations, "errors": self.errors,
            "throttles": self.throttles, "timeouts": self.timeouts,
            "cold_starts": self.cold_starts,
            "avg_init_ms": round(self.init_ms_total / self.cold_starts, 2)
            if self.cold_starts else None,
            "p50_ms": pct(0.50), "p99_ms": pct(0.99),
        }


def _busy(pool: FunctionPool) -> float:
    return float(pool.busy)


class Metrics:
    def __init__(self, runtime: Runtime) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        labels = ["function"]
        self.invocations = Counter("lambda_invocations", "Invocations", labels, registry=r)
        self.errors = Counter("lambda_errors", "Invocations that failed (error, timeout, "
                              "crash, out of memory)", labels, registry=r)
        self.throttles = Counter("lambda_throttles", "Throttled invocations", labels,
                                 registry=r)
        self.cold_starts = Counter("lambda_cold_starts", "Invocations that started a worker",
                                   labels, registry=r)
        self.duration = Histogram("lambda_duration_seconds", "Handler duration", labels,
                                  buckets=_BUCKETS, registry=r)
        self.init = Histogram("lambda_init_duration_seconds", "Init duration of cold starts",
                              labels, buckets=_BUCKETS, registry=r)
        self.concurrent = Gauge("lambda_concurrent_executions", "Invocations in flight",
                                labels, registry=r)
        self.stats: dict[str, FunctionStats] = {}
        for name, pool in runtime.pools.items():
            self.stats[name] = FunctionStats()
            self.concurrent.labels(name).set_function(functools.partial(_busy, pool))
            pool.listeners.append(self.record)

    def record(self, fn: Function, result: InvokeResult) -> None:
        name = fn.name
        stats = self.stats.setdefault(name, FunctionStats())
        if result.status == "throttled":
            self.throttles.labels(name).inc()
            stats.throttles += 1
            return
        self.invocations.labels(name).inc()
        stats.invocations += 1
        self.duration.labels(name).observe(result.duration_ms / 1000)
        stats.durations_ms.append(result.duration_ms)
        if not result.ok:
            self.errors.labels(name).inc()
            stats.errors += 1
        if result.status == "timeout":
            stats.timeouts += 1
        if result.cold:
            self.cold_starts.labels(name).inc()
            stats.cold_starts += 1
            if result.init_ms is not None:
                self.init.labels(name).observe(result.init_ms / 1000)
                stats.init_ms_total += result.init_ms

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def report(self) -> dict[str, dict[str, Any]]:
        return {name: s.summary() for name, s in sorted(self.stats.items())}


def format_report(report: dict[str, dict[str, Any]]) -> str:
    head = (f"{'function':<32} {'invocations':>11} {'errors':>6} {'throttles':>9} "
            f"{'cold':>5} {'avg init ms':>11} {'p50 ms':>8} {'p99 ms':>8}")
    lines = [head, "-" * len(head)]
    for name, s in report.items():
        def num(v: Any) -> str:
            return "-" if v is None else f"{v:.1f}" if isinstance(v, float) else str(v)

        lines.append(f"{name:<32} {s['invocations']:>11} {s['errors']:>6} {s['throttles']:>9} "
                     f"{s['cold_starts']:>5} {num(s['avg_init_ms']):>11} "
                     f"{num(s['p50_ms']):>8} {num(s['p99_ms']):>8}")
    return "\n".join(lines)
