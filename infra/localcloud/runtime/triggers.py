"""The event sources of a template's functions (`Triggers`): each event of a function becomes
one trigger, by kind - SQS mappings (`sqs_mapping`), S3, SNS and EventBridge deliveries
(`async_triggers`), DynamoDB stream mappings (`stream_mapping`), schedules (`schedules`)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from localcloud.aws import local_client
from localcloud.runtime.async_triggers import EventBridgeTrigger, S3Trigger, SnsTrigger
from localcloud.runtime.background import Background
from localcloud.runtime.pool import FunctionPools
from localcloud.runtime.schedules import ScheduleTrigger
from localcloud.runtime.sqs_mapping import SqsMapping, poller_limit
from localcloud.runtime.stream_mapping import DynamoStreamMapping, StreamPositions
from localcloud.runtime.trigger import LogSink, Trigger
from localcloud.template import Template

_KINDS: dict[str, type[Trigger]] = {
    "SQS": SqsMapping, "S3": S3Trigger, "EventBridgeRule": EventBridgeTrigger,
    "CloudWatchEvent": EventBridgeTrigger, "SNS": SnsTrigger, "Schedule": ScheduleTrigger,
    "ScheduleV2": ScheduleTrigger, "DynamoDB": DynamoStreamMapping,
}


class Triggers:
    def __init__(self, template: Template, runtime: FunctionPools, endpoint: str,
                 log: LogSink = print, positions: Path | None = None) -> None:
        self.template = template
        self.runtime = runtime
        self.endpoint = endpoint
        self.log = log
        self.positions = StreamPositions(positions)
        self.triggers: list[Trigger] = []
        self.background = Background()
        self.counts: dict[str, list[int]] = {}
        self._clients: dict[str, Any] = {}
        for fn in template.functions.values():
            for ev in fn.events:
                kind = _KINDS.get(ev.type)
                if kind is None:
                    if ev.type not in ("HttpApi", "Api"):
                        self.log(f"edu: {fn.name}/{ev.name}: event type {ev.type} is not "
                                 "supported locally and is ignored")
                    continue
                if ev.properties.get("Enabled") is False:
                    continue
                self.triggers.append(kind(self, fn, ev))
        # One thread per long-polling poller (a mapping's extra pollers included), so
        # pollers never starve each other.
        pollers = sum(poller_limit(t.ev) if isinstance(t, SqsMapping) else 1
                      for t in self.triggers)
        self.executor = ThreadPoolExecutor(max_workers=max(4, pollers + 2),
                                           thread_name_prefix="edu-trigger")

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = local_client(service, self.endpoint, self.template.region)
        return self._clients[service]

    def delivered(self, trigger: Trigger, ok: int, failed: int) -> None:
        counts = self.counts.setdefault(trigger.label, [0, 0])
        counts[0] += ok
        counts[1] += failed

    async def start(self) -> None:
        for trigger in self.triggers:
            await trigger.setup()
            self.background.start(self._guard(trigger))

    async def _guard(self, trigger: Trigger) -> None:
        """Keeps a trigger polling through transient errors (e.g. the endpoint restarting)."""
        while True:
            try:
                await trigger.run()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.log(f"[{trigger.label}] poller error: {type(exc).__name__}: {exc}; "
                         "retrying in 1s")
                await asyncio.sleep(1)

    async def stop(self) -> None:
        for stuck in await self.background.cancel_all():
            self.log(f"edu: a trigger task did not stop when cancelled: {stuck}")
        self.executor.shutdown(wait=False, cancel_futures=True)
