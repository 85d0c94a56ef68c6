"""Per-function metrics: Prometheus exposition and the `edu local report` table.

Counting is plain integer arithmetic on the hot path; Prometheus metric families are built
only when /metrics is scraped (prometheus_client's per-sample locks cost ~4% of the
gateway's CPU under load).
"""

from __future__ import annotations

import bisect
import json
import re
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from localcloud.runtime.invocation import InvokeResult
from localcloud.runtime.pool import FunctionPool, FunctionPools
from localcloud.template import Function

BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
             300)


@dataclass
class Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS_S) + 1))
    total: float = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(BUCKETS_S, seconds)] += 1
        self.total += seconds

    def cumulative(self) -> list[tuple[str, float]]:
        out: list[tuple[str, float]] = []
        running = 0
        for bound, count in zip((*BUCKETS_S, float("inf")), self.counts, strict=True):
            running += count
            out.append(("+Inf" if bound == float("inf") else repr(float(bound)), running))
        return out


@dataclass
class FunctionStats:
    invocations: int = 0
    errors: int = 0
    throttles: int = 0
    timeouts: int = 0
    cold_starts: int = 0
    init_ms_total: float = 0.0
    duration: Histogram = field(default_factory=Histogram)
    init: Histogram = field(default_factory=Histogram)
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


def _prom_name(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_]", "_", name).lower()


class QueueDepth:
    """SQS queue depths (every queue of the template, DLQs included). `refresh` reads them
    (blocking: run it off the event loop) before each scrape; `collect` reports the last."""

    def __init__(self, names: list[str], client: Any) -> None:
        self.names = names
        self.client = client
        self.urls: dict[str, str] = {}
        self.depths: dict[str, tuple[float, float]] = {}

    def refresh(self) -> None:
        depths = {}
        for name in self.names:
            try:
                if name not in self.urls:
                    self.urls[name] = self.client.get_queue_url(QueueName=name)["QueueUrl"]
                attrs = self.client.get_queue_attributes(
                    QueueUrl=self.urls[name], AttributeNames=[
                        "ApproximateNumberOfMessages",
                        "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
            except Exception:  # the local AWS is down or restarting: no sample this time
                continue
            depths[name] = (float(attrs["ApproximateNumberOfMessages"]),
                            float(attrs["ApproximateNumberOfMessagesNotVisible"]))
        self.depths = depths

    def collect(self) -> Iterator[Metric]:
        visible = GaugeMetricFamily("sqs_messages_visible", "Messages waiting in the queue",
                                    labels=["queue"])
        in_flight = GaugeMetricFamily("sqs_messages_in_flight",
                                      "Messages received and not yet deleted",
                                      labels=["queue"])
        for name, (waiting, received) in sorted(self.depths.items()):
            visible.add_metric([name], waiting)
            in_flight.add_metric([name], received)
        yield visible
        yield in_flight


class Metrics:
    def __init__(self, runtime: FunctionPools, queues: QueueDepth | None = None,
                 websocket: Callable[[], dict[str, Any]] | None = None) -> None:
        self.queues = queues
        self.websocket = websocket  # the WebSocket API's summary, when there is one
        self.pools: dict[str, FunctionPool] = dict(runtime.pools)
        self.stats: dict[str, FunctionStats] = {name: FunctionStats() for name in self.pools}
        # app metrics the functions print as CloudWatch EMF: {(metric, function): total}
        self.app: dict[tuple[str, str], float] = {}
        for pool in self.pools.values():
            pool.listeners.append(self.record)
            pool.launcher.line_listeners.append(self.record_emf)
        self.registry = CollectorRegistry()
        self.registry.register(self)

    def record_emf(self, fn: Function, line: str) -> None:
        """Counts the metrics of an Embedded Metric Format line, as CloudWatch would ingest
        them on AWS (Powertools Metrics prints these)."""
        if not line.startswith("{") or '"_aws"' not in line:
            return
        try:
            doc = json.loads(line)
            directives = doc["_aws"]["CloudWatchMetrics"]
        except (ValueError, KeyError, TypeError):
            return
        for directive in directives:
            for metric in directive.get("Metrics", []):
                name = str(metric.get("Name", ""))
                values = doc.get(name)
                for value in values if isinstance(values, list) else [values]:
                    if isinstance(value, int | float):
                        key = (name, fn.name)
                        self.app[key] = self.app.get(key, 0.0) + value

    def record(self, fn: Function, result: InvokeResult) -> None:
        stats = self.stats.get(fn.name)
        if stats is None:
            stats = self.stats[fn.name] = FunctionStats()
        if result.status == "throttled":
            stats.throttles += 1
            return
        stats.invocations += 1
        stats.duration.observe(result.duration_ms / 1000)
        stats.durations_ms.append(result.duration_ms)
        if not result.ok:
            stats.errors += 1
        if result.status == "timeout":
            stats.timeouts += 1
        if result.cold:
            stats.cold_starts += 1
            if result.init_ms is not None:
                stats.init.observe(result.init_ms / 1000)
                stats.init_ms_total += result.init_ms

    def collect(self) -> Iterator[Metric]:
        """prometheus_client's collector protocol: called per scrape."""
        counters = {
            "lambda_invocations": ("Invocations", "invocations"),
            "lambda_errors": ("Invocations that failed (error, timeout, crash, out of memory)",
                              "errors"),
            "lambda_throttles": ("Throttled invocations", "throttles"),
            "lambda_cold_starts": ("Invocations that started a worker", "cold_starts"),
        }
        for metric, (doc, attr) in counters.items():
            family = CounterMetricFamily(metric, doc, labels=["function"])
            for name, stats in self.stats.items():
                family.add_metric([name], getattr(stats, attr))
            yield family
        for metric, doc, attr in (
                ("lambda_duration_seconds", "Handler duration", "duration"),
                ("lambda_init_duration_seconds", "Init duration of cold starts", "init")):
            hist = HistogramMetricFamily(metric, doc, labels=["function"])
            for name, stats in self.stats.items():
                h: Histogram = getattr(stats, attr)
                hist.add_metric([name], h.cumulative(), h.total)
            yield hist
        gauge = GaugeMetricFamily("lambda_concurrent_executions", "Invocations in flight",
                                  labels=["function"])
        for name, pool in self.pools.items():
            gauge.add_metric([name], pool.busy)
        yield gauge
        by_metric: dict[str, list[tuple[str, float]]] = {}
        for (metric, function), total in sorted(self.app.items()):
            by_metric.setdefault(metric, []).append((function, total))
        for metric, rows in by_metric.items():
            family = CounterMetricFamily(f"app_{_prom_name(metric)}",
                                         f"{metric} (EMF metric printed by the functions)",
                                         labels=["function"])
            for function, total in rows:
                family.add_metric([function], total)
            yield family
        if self.queues is not None:
            yield from self.queues.collect()
        if self.websocket is not None:
            yield from _websocket_families(self.websocket())

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def report(self) -> dict[str, dict[str, Any]]:
        return {name: s.summary() for name, s in sorted(self.stats.items())}


def _websocket_families(summary: dict[str, Any]) -> Iterator[Metric]:
    gauge = GaugeMetricFamily("websocket_connections_open", "Open WebSocket connections")
    gauge.add_metric([], summary["open"])
    yield gauge
    for metric, doc, key in (
            ("websocket_connections_accepted", "Connections let in", "accepted"),
            ("websocket_connections_refused", "Connections turned down at $connect", "refused"),
            ("websocket_messages_out", "Frames sent to clients", "messages_out")):
        family = CounterMetricFamily(metric, doc)
        family.add_metric([], summary[key])
        yield family
    routes = CounterMetricFamily("websocket_messages_in", "Messages received, by route",
                                 labels=["route"])
    for route, count in summary["messages_in"].items():
        routes.add_metric([route], count)
    yield routes


def format_websocket(summary: dict[str, Any]) -> str:
    routes = ", ".join(f"{route} {n}" for route, n in summary["messages_in"].items()) or "-"
    return (f"WebSocket API: {summary['open']} open, {summary['accepted']} accepted, "
            f"{summary['refused']} refused; messages in by route: {routes}; "
            f"out: {summary['messages_out']}")


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
